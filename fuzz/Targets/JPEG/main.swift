// Tiny-ImageNet JPEG files through libturbojpeg, with the loader's 64×64 check
// (refused from the header) and without it (any plausible size, up to the
// decoder's own limit).
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    let data = Data(input)
    _ = try? TinyImageNet.decode(data, file: "fuzz")
    _ = try? JPEG.decodeRGB(data, file: "fuzz")
}
