import XCTest
@testable import Core

/// im2col and its adjoint (col2im) against the plain definition, on widths
/// that exercise the eight-lane runs and their tails.
final class Im2colTests: XCTestCase {
    func testForwardAndBackwardMatchTheDefinition() {
        for width in [1, 3, 7, 8, 9, 15, 16, 17, 20] {
            for (kernel, stride, padding) in [(3, 1, 1), (3, 2, 1), (1, 1, 0), (3, 1, 0), (1, 2, 0)] {
                guard width + 2 * padding >= kernel else { continue }
                let g = ConvGeometry(channels: 2, height: 5, width: width, kernel: kernel, stride: stride, padding: padding)
                let image = randomTensor([2, 5, width], seed: UInt64(width)).data
                let pixels = g.outPixels, ld = pixels + 3, column0 = 2
                // The value im2col puts at (row c·K² + ky·K + kx, output pixel), or 0 in the padding.
                func expected(_ row: Int, _ pixel: Int) -> (Float, Int?) {
                    let c = row / (kernel * kernel), ky = row / kernel % kernel, kx = row % kernel
                    let iy = pixel / g.outWidth * stride - padding + ky, ix = pixel % g.outWidth * stride - padding + kx
                    guard iy >= 0, iy < 5, ix >= 0, ix < width else { return (0, nil) }
                    let index = (c * 5 + iy) * width + ix
                    return (image[index], index)
                }
                var col = [Float](repeating: .nan, count: g.patch * ld)
                image.withUnsafeBufferPointer { Im2col.forward(col: &col, ld: ld, column0: column0, image: $0.baseAddress!, geometry: g) }
                let gradCol = randomTensor([g.patch * ld], seed: 7).data
                var folded = [Float](repeating: 0.5, count: image.count), reference = folded
                gradCol.withUnsafeBufferPointer { Im2col.backward(image: &folded, col: $0.baseAddress!, ld: ld, column0: column0, geometry: g) }
                for row in 0..<g.patch {
                    for pixel in 0..<pixels {
                        let (value, index) = expected(row, pixel)
                        XCTAssertEqual(col[row * ld + column0 + pixel], value, "forward w\(width) k\(kernel) s\(stride) p\(padding)")
                        if let index { reference[index] += gradCol[row * ld + column0 + pixel] }
                    }
                }
                // The same additions per pixel in the same order (rows ascending), so exact.
                XCTAssertEqual(folded, reference, "backward w\(width) k\(kernel) s\(stride) p\(padding)")
            }
        }
    }
}
