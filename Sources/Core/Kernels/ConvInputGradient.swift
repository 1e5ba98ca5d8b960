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
    /// is 1; the others are left as they are. Channel by channel (its
    /// weight rows stay in L1), the open values of the interior pixels
    /// (read through every kernel offset) go four at a time, sharing each
    /// weight row they read, on dY transposed per image to [OP, O]; each
    /// value sums its products over O and the kernel offsets in SIMD lanes
    /// and reduces them once (`OpenValueSums`), so a value does not depend
    /// on which other values are open.
    /// - Parameters:
    ///   - images: the B images of dx, in dY's column order.
    ///   - flags: each image's open-window flags [C, H, W], in the same order.
    ///   - gradOut: dY [O, ld], the chunk's images from column 0.
    ///   - weightT: W as [KK, C, O] (`EventConv.offsetMajor`).
    public static func gated(images: [UnsafeMutablePointer<Float>], flags: [UnsafePointer<UInt8>],
                             gradOut: UnsafePointer<Float>, ld: Int,
                             weightT: UnsafePointer<Float>, outChannels o: Int, geometry g: ConvGeometry) {
        precondition(flags.count == images.count, "ConvInputGradient.gated: \(flags.count) flag images for \(images.count) images")
        let inPixels = g.inPixels, outPixels = g.outPixels, c = g.channels, offsetCount = g.kernel * g.kernel
        let transposed = ScratchBuffer(count: outPixels * o)
        let reads = PixelReads(g, outChannels: o)
        var group = [Int](repeating: 0, count: 4)
        for (j, image) in images.enumerated() {
            Profiler.measure(part: .layout) {
                EventConv.transpose(transposed.pointer, gradOut + j * outPixels, rows: o, columns: outPixels, ld: ld, adding: nil)
            }
            Profiler.measure(part: .events) {
                for channel in 0..<c {
                    let open = flags[j] + channel * inPixels, dx = image + channel * inPixels
                    let weights = weightT + channel * o
                    var grouped = 0
                    for pixel in 0..<inPixels where open[pixel] != 0 {
                        let pixelReads = reads.reads(of: pixel)
                        guard pixelReads.count == offsetCount else {
                            dx[pixel] = OpenValueSums.one(weights, transposed.pointer, reads: pixelReads, count: o)
                            continue
                        }
                        group[grouped] = pixel
                        grouped += 1
                        guard grouped == 4 else { continue }
                        let sums = OpenValueSums.four(weights, transposed.pointer, reads: reads, pixels: group, count: o)
                        dx[group[0]] = sums.0; dx[group[1]] = sums.1; dx[group[2]] = sums.2; dx[group[3]] = sums.3
                        grouped = 0
                    }
                    for pixel in group[0..<grouped] {
                        dx[pixel] = OpenValueSums.one(weights, transposed.pointer, reads: reads.reads(of: pixel), count: o)
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
}
