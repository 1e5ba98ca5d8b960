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
                        // Zero where the window reads padding, copy the rest.
                        let line = src + iy * g.width, shift = kx - g.padding
                        let (first, end) = validRange(offset: shift, stride: g.stride, size: g.width, outputs: ow)
                        for ox in 0..<first { out[ox] = 0 }
                        if g.stride == 1 {
                            copyRun(out + first, line + (first + shift), count: end - first)
                        } else {
                            for ox in first..<end { out[ox] = line[ox * g.stride + shift] }
                        }
                        for ox in end..<ow { out[ox] = 0 }
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
                    // Output columns whose input column ix = ox·S − P + kx lies in the image.
                    let (first, end) = validRange(offset: kx - g.padding, stride: g.stride, size: g.width, outputs: ow)
                    guard first < end else { continue }
                    for oy in 0..<oh {
                        let iy = oy * g.stride - g.padding + ky
                        if iy < 0 || iy >= g.height { continue }
                        let line = dstImage + iy * g.width, shift = kx - g.padding
                        let input = src + oy * ow
                        if g.stride == 1 {
                            addRun(line + (first + shift), input + first, count: end - first)
                        } else {
                            for ox in first..<end { line[ox * g.stride + shift] += input[ox] }
                        }
                    }
                }
            }
        }
    }

    /// target[i] = source[i] for i in 0..<count: eight lanes at a time (short
    /// rows of deep layers cost more as memcpy calls).
    @inline(__always)
    static func copyRun(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(target + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self),
                                                           as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            target[i] = source[i]
            i += 1
        }
    }

    /// target[i] += source[i] for i in 0..<count, eight lanes at a time (the
    /// plain loop, inlined into its callers, stayed scalar).
    @inline(__always)
    static func addRun(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let sum = UnsafeRawPointer(target + i).loadUnaligned(as: SIMD8<Float>.self)
                + UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: sum, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            target[i] += source[i]
            i += 1
        }
    }

    /// The outputs `first ..< end` (of `outputs`) whose input position
    /// `o·stride + offset` lies in `0 ..< size`.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, size: Int, outputs: Int) -> (Int, Int) {
        // o·S + offset ≥ 0  ⇔  o ≥ ⌈−offset / S⌉;   o·S + offset ≤ size − 1  ⇔  o ≤ ⌊(size − 1 − offset) / S⌋.
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let lastInput = size - 1 - offset
        let end = lastInput < 0 ? 0 : min(outputs, lastInput / stride + 1)
        return (first, max(first, end))
    }
}
