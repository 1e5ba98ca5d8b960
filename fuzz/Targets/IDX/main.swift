// MNIST / Fashion-MNIST IDX files, raw or gzipped (zlib inflate with its
// output limit lowered so a decompression bomb shows as a finding quickly).
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    _ = try? IDX.decode(Data(input), name: "fuzz", inflateLimit: 64 << 20)
}
