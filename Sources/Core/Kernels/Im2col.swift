// Legend: C input channels, H×W input, KH×KW kernel, OH×OW output,
// S stride, P zero padding; K = C·KH·KW rows of the column matrix, ordered
// like PyTorch's weight [Cout, C, KH, KW] so that weight·col is the convolution.

/// Geometry of a 2-D convolution or pooling window over one image.
public struct ConvGeometry: Sendable, Equatable {
    public let channels: Int, height: Int, width: Int
    public let kernel: Int, stride: Int, padding: Int

    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        precondition(kernel > 0 && stride > 0 && padding >= 0, "ConvGeometry: kernel \(kernel) stride \(stride) padding \(padding)")
        precondition(height + 2 * padding >= kernel && width + 2 * padding >= kernel,
                     "ConvGeometry: \(height)×\(width) input with padding \(padding) is smaller than kernel \(kernel)")
        self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    public var outPixels: Int { outHeight * outWidth }
    public var inPixels: Int { height * width }
    /// Rows of the column matrix: C·KH·KW.
    public var patch: Int { channels * kernel * kernel }
    /// A 1×1, stride-1, unpadded convolution reads the image as its own column matrix.
    public var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
}

public enum Im2col {
    /// col[K, ld] columns `column0 ..< column0 + OH·OW` ← patches of image [C, H, W].
    public static func forward(col: UnsafeMutablePointer<Float>, ld: Int, column0: Int,
                               image: UnsafePointer<Float>, geometry g: ConvGeometry) {
        let oh = g.outHeight, ow = g.outWidth
        for c in 0..<g.channels {
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    let row = (c * g.kernel + ky) * g.kernel + kx
                    let dst = col + row * ld + column0
                    let src = image + c * g.height * g.width
                    for oy in 0..<oh {
                        let iy = oy * g.stride - g.padding + ky
                        let out = dst + oy * ow
                        if iy < 0 || iy >= g.height {
                            out.update(repeating: 0, count: ow)
                            continue
                        }
                        let line = src + iy * g.width
                        if g.stride == 1 {
                            // Contiguous run; zero only the padded ends.
                            for ox in 0..<ow {
                                let ix = ox - g.padding + kx
                                out[ox] = (ix >= 0 && ix < g.width) ? line[ix] : 0
                            }
                        } else {
                            for ox in 0..<ow {
                                let ix = ox * g.stride - g.padding + kx
                                out[ox] = (ix >= 0 && ix < g.width) ? line[ix] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// image[C, H, W] += the column matrix's columns `column0 ..< column0 + OH·OW`
    /// folded back onto the pixels they were read from (the adjoint of `forward`).
    public static func backward(image: UnsafeMutablePointer<Float>, col: UnsafePointer<Float>, ld: Int,
                                column0: Int, geometry g: ConvGeometry) {
        let oh = g.outHeight, ow = g.outWidth
        for c in 0..<g.channels {
            let dstImage = image + c * g.height * g.width
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    let row = (c * g.kernel + ky) * g.kernel + kx
                    let src = col + row * ld + column0
                    for oy in 0..<oh {
                        let iy = oy * g.stride - g.padding + ky
                        if iy < 0 || iy >= g.height { continue }
                        let line = dstImage + iy * g.width
                        let input = src + oy * ow
                        for ox in 0..<ow {
                            let ix = ox * g.stride - g.padding + kx
                            if ix >= 0 && ix < g.width { line[ix] += input[ox] }
                        }
                    }
                }
            }
        }
    }
}
