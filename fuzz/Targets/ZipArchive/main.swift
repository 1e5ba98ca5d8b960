// The ZIP reader under .pth checkpoints on its own: directory, ZIP64
// records, local headers and CRC-32 of every entry.
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    guard let archive = try? ZipArchive(data: Data(input), name: "fuzz") else { return }
    for name in archive.names { _ = try? archive.contents(of: name) }
}
