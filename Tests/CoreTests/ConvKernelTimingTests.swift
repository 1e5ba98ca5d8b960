@testable import Core
import XCTest

/// `bench --conv-kernels`: its multiply-add counts (the GFLOP/s it prints)
/// and its lines.
final class ConvKernelTimingTests: XCTestCase {
    /// The count per selected value equals a count over the direct loops:
    /// every output pixel, kernel offset and channel whose read lands on a
    /// selected input value adds O (borders, stride 2, a 1×1 kernel).
    func testMultiplyAddsCountTheReadsOfTheDirectLoops() {
        for (c, o, size, k, s, p) in [(3, 5, 7, 3, 1, 1), (2, 4, 8, 3, 2, 1), (4, 3, 5, 1, 2, 0), (1, 2, 1, 3, 1, 1)] {
            let g = ConvGeometry(channels: c, height: size, width: size, kernel: k, stride: s, padding: p)
            let images = 2, inImage = c * g.inPixels
            var stream = RandomStream(seed: UInt64(c * 10 + size), name: "multiply-adds")
            let selected = (0..<(images * inImage)).map { _ in stream.uniform() < 0.4 }
            var direct = 0
            for j in 0..<images {
                for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for ky in 0..<k { for kx in 0..<k {
                    let iy = oy * s - p + ky, ix = ox * s - p + kx
                    guard (0..<size).contains(iy), (0..<size).contains(ix) else { continue }
                    for ch in 0..<c where selected[j * inImage + ch * g.inPixels + iy * size + ix] { direct += o }
                } } } }
            }
            XCTAssertEqual(ConvKernelTiming.multiplyAdds(images: images, outChannels: o, geometry: g) { selected[$0] }, direct,
                           "c\(c) o\(o) \(size)² k\(k) s\(s) p\(p)")
        }
    }

    func testEveryShapeIsTimedAndSaid() {
        let shapes = [ConvKernelTiming.Shape(channels: 8, outChannels: 16, size: 6, stride: 1),
                      ConvKernelTiming.Shape(channels: 8, outChannels: 8, size: 7, stride: 2)]
        var lines: [String] = []
        ConvKernelTiming.timeShapes(shapes, images: 2, density: 0.3, repeats: 1) { lines.append($0) }
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("c8→o16 6² s1:"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("c8→o8 7² s2:"), lines[1])
        for line in lines {
            for part in ["forward events", "weight gradient events", "input gradient gated", "| dense", "events collected"] {
                XCTAssertTrue(line.contains(part), "\(part) missing: \(line)")
            }
        }
    }
}
