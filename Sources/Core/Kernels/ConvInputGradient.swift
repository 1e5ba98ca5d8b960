// Legend: C input channels, H×W input (IP = H·W pixels), KH = KW = kernel
// (KK = KH·KW offsets), O output channels, OH×OW output (OP pixels), S
// stride, P zero padding; K = C·KK rows of the column matrix; B images of
// one reduction chunk, whose output gradient is gathered as dY [O, B·OP].
//
// The input gradient of a convolution, per input value:
//   dx[c, iy, ix] = Σ_{o, ky, kx} W[o, c, ky, kx] · dY[o, oy, ox]
// over the outputs (oy, ox) that read (iy, ix) through offset (ky, kx):
// oy·S − P + ky = iy and ox·S − P + kx = ix.

/// The input gradient of a convolution for the images of one chunk:
/// `dense` everywhere (GEMM + col2im), `gated` only at the values whose
/// surrogate window is open (`OpenWindow`). Reference: `ConvInputGradient+Reference.swift`.
public enum ConvInputGradient {
    /// Columns (whole images) of one dense GEMM. A fixed number, so every
    /// BLAS call's shape is independent of the rank and thread count.
    static let blockColumns = 2048

    /// dx[B, C, H, W] += dcol folded back, dcol[K, b·OP] = W[O, K]ᵀ · dY[O, b·OP]
    /// for blocks of b images (about `blockColumns` columns, so dcol stays in
    /// cache until `Im2col.backward` folds it onto the images).
    /// - Parameters:
    ///   - images: the B images of dx, in dY's column order.
    ///   - gradOut: dY [O, ld], the chunk's images from column 0.
    ///   - weight: W [O, K].
    public static func dense(images: [UnsafeMutablePointer<Float>], gradOut: UnsafePointer<Float>, ld: Int,
                             weight: UnsafePointer<Float>, outChannels: Int, geometry g: ConvGeometry) {
        let pixels = g.outPixels
        let blockImages = max(1, blockColumns / max(1, pixels))
        let dcol = ScratchBuffer(count: g.patch * min(blockImages, images.count) * pixels)
        for first in Swift.stride(from: 0, to: images.count, by: blockImages) {
            let end = min(first + blockImages, images.count), columns = (end - first) * pixels
            Profiler.measure(part: .gemm) {
                Gemm.sgemm(transA: true, m: g.patch, n: columns, k: outChannels,
                           a: weight, lda: g.patch, b: gradOut + first * pixels, ldb: ld,
                           c: dcol.pointer, ldc: columns)
            }
            Profiler.measure(part: .layout) {
                for j in first..<end {
                    Im2col.backward(image: images[j], col: dcol.pointer, ld: columns, column0: (j - first) * pixels, geometry: g)
                }
            }
        }
    }

    /// dx[B, C, H, W] = the input gradient at the values whose `flags` byte
    /// is 1; the others are left as they are. One dot product over O per
    /// open value and kernel offset, on dY transposed per image to [OP, O].
    /// - Parameters:
    ///   - images: the B images of dx, in dY's column order.
    ///   - flags: each image's open-window flags [C, H, W], in the same order.
    ///   - gradOut: dY [O, ld], the chunk's images from column 0.
    ///   - weightT: W as [KK, C, O] (`EventConv.offsetMajor`).
    public static func gated(images: [UnsafeMutablePointer<Float>], flags: [UnsafePointer<UInt8>],
                             gradOut: UnsafePointer<Float>, ld: Int,
                             weightT: UnsafePointer<Float>, outChannels o: Int, geometry g: ConvGeometry) {
        precondition(flags.count == images.count, "ConvInputGradient.gated: \(flags.count) flag images for \(images.count) images")
        let inPixels = g.inPixels, outPixels = g.outPixels
        let transposed = ScratchBuffer(count: outPixels * o)
        // Per input row / column and kernel offset: the output row / column
        // that reads it there, or −1.
        let rowSource = sources(size: g.height, outputs: g.outHeight, g), columnSource = sources(size: g.width, outputs: g.outWidth, g)
        for (j, image) in images.enumerated() {
            Profiler.measure(part: .layout) {
                EventConv.transpose(transposed.pointer, gradOut + j * outPixels, rows: o, columns: outPixels, ld: ld, adding: nil)
            }
            Profiler.measure(part: .events) {
                for c in 0..<g.channels {
                    let open = flags[j] + c * inPixels, dx = image + c * inPixels
                    for pixel in 0..<inPixels where open[pixel] != 0 {
                        let iy = pixel / g.width, ix = pixel - iy * g.width
                        var sum: Float = 0
                        for ky in 0..<g.kernel {
                            let oy = rowSource[iy * g.kernel + ky]
                            if oy < 0 { continue }
                            for kx in 0..<g.kernel {
                                let ox = columnSource[ix * g.kernel + kx]
                                if ox < 0 { continue }
                                sum += dot(weightT + ((ky * g.kernel + kx) * g.channels + c) * o,
                                           transposed.pointer + (Int(oy) * g.outWidth + Int(ox)) * o, count: o)
                            }
                        }
                        dx[pixel] = sum
                    }
                }
            }
        }
    }

    /// `table[i·KH + k]` = the output index that reads input index i (of
    /// `size`) through kernel offset k along one axis, or −1.
    static func sources(size: Int, outputs: Int, _ g: ConvGeometry) -> [Int32] {
        var table = [Int32](repeating: -1, count: size * g.kernel)
        for i in 0..<size {
            for k in 0..<g.kernel {
                let shifted = i + g.padding - k
                guard shifted >= 0, shifted % g.stride == 0, shifted / g.stride < outputs else { continue }
                table[i * g.kernel + k] = Int32(shifted / g.stride)
            }
        }
        return table
    }

    /// Σ a[i]·b[i] for i in 0..<count: eight lanes in two accumulators,
    /// combined in a fixed order, then the remainder in index order.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            s0 += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            s1 += UnsafeRawPointer(a + i + 8).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            i += 16
        }
        if i + 8 <= count {
            s0 += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var sum = (s0 + s1).sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }
}
