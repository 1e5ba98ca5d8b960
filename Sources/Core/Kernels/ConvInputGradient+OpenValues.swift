// Legend as in ConvInputGradient.swift; R ≤ KK kernel offsets read an
// input pixel (fewer at the borders).

/// For every input pixel of a convolution, the kernel offsets that read it
/// (ascending) as pairs of offsets: into `weightT` [KK, C, O] (k·C·O) and
/// into dY transposed to [OP, O] (the row of the output pixel that reads it).
final class PixelReads {
    let offsetCount: Int
    /// Per pixel, `offsetCount` slots of which the first `counts[p]` are used.
    private let weightOffsets: UnsafeMutablePointer<Int32>, rowOffsets: UnsafeMutablePointer<Int32>
    private let counts: UnsafeMutablePointer<Int32>

    /// The R reads of one pixel.
    struct Reads {
        let weightOffsets: UnsafePointer<Int32>, rowOffsets: UnsafePointer<Int32>, count: Int
    }

    init(_ g: ConvGeometry, outChannels o: Int) {
        offsetCount = g.kernel * g.kernel
        weightOffsets = .allocate(capacity: max(1, g.inPixels * offsetCount))
        rowOffsets = .allocate(capacity: max(1, g.inPixels * offsetCount))
        counts = .allocate(capacity: max(1, g.inPixels))
        let rowSource = ConvInputGradient.sources(size: g.height, outputs: g.outHeight, g)
        let columnSource = ConvInputGradient.sources(size: g.width, outputs: g.outWidth, g)
        for pixel in 0..<g.inPixels {
            let iy = pixel / g.width, ix = pixel - iy * g.width
            var r = 0
            for ky in 0..<g.kernel {
                let oy = rowSource[iy * g.kernel + ky]
                if oy < 0 { continue }
                for kx in 0..<g.kernel {
                    let ox = columnSource[ix * g.kernel + kx]
                    if ox < 0 { continue }
                    weightOffsets[pixel * offsetCount + r] = Int32((ky * g.kernel + kx) * g.channels * o)
                    rowOffsets[pixel * offsetCount + r] = Int32((Int(oy) * g.outWidth + Int(ox)) * o)
                    r += 1
                }
            }
            counts[pixel] = Int32(r)
        }
    }

    deinit {
        weightOffsets.deallocate(); rowOffsets.deallocate(); counts.deallocate()
    }

    /// The reads of `pixel`; valid while `self` lives.
    @inline(__always)
    func reads(of pixel: Int) -> Reads {
        Reads(weightOffsets: weightOffsets + pixel * offsetCount, rowOffsets: rowOffsets + pixel * offsetCount,
              count: Int(counts[pixel]))
    }
}

/// dx of one channel at an input pixel: `Σ_r Σ_o weights[w_r + o] · dY[y_r + o]`
/// over the pixel's R reads (`weights` is `weightT` from the channel's
/// row). Lanes o ≡ i (mod 16) sum in two SIMD8 accumulators over all R
/// reads, the O mod 8 remainder in a scalar, and the lanes are reduced once
/// at the end: the same operations for a value whether it goes alone
/// (`one`) or in a group (`four`).
enum OpenValueSums {
    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Four interior pixels (all KK offsets read them) of one channel: each
    /// weight row is loaded once for the four.
    @inline(__always)
    static func four(_ weights: UnsafePointer<Float>, _ dY: UnsafePointer<Float>, reads: PixelReads, pixels: [Int],
                     count o: Int) -> (Float, Float, Float, Float) {
        let r0 = reads.reads(of: pixels[0]), r1 = reads.reads(of: pixels[1])
        let r2 = reads.reads(of: pixels[2]), r3 = reads.reads(of: pixels[3])
        var a0 = SIMD8<Float>(), b0 = SIMD8<Float>(), a1 = SIMD8<Float>(), b1 = SIMD8<Float>()
        var a2 = SIMD8<Float>(), b2 = SIMD8<Float>(), a3 = SIMD8<Float>(), b3 = SIMD8<Float>()
        var t0: Float = 0, t1: Float = 0, t2: Float = 0, t3: Float = 0
        let body = o / 16 * 16, eights = o / 8 * 8
        for r in 0..<reads.offsetCount {
            let w = weights + Int(r0.weightOffsets[r])
            let y0 = dY + Int(r0.rowOffsets[r]), y1 = dY + Int(r1.rowOffsets[r])
            let y2 = dY + Int(r2.rowOffsets[r]), y3 = dY + Int(r3.rowOffsets[r])
            var i = 0
            while i < body {
                let wa = load(w + i), wb = load(w + i + 8)
                a0 = a0.addingProduct(wa, load(y0 + i)); b0 = b0.addingProduct(wb, load(y0 + i + 8))
                a1 = a1.addingProduct(wa, load(y1 + i)); b1 = b1.addingProduct(wb, load(y1 + i + 8))
                a2 = a2.addingProduct(wa, load(y2 + i)); b2 = b2.addingProduct(wb, load(y2 + i + 8))
                a3 = a3.addingProduct(wa, load(y3 + i)); b3 = b3.addingProduct(wb, load(y3 + i + 8))
                i += 16
            }
            if i < eights {
                let wa = load(w + i)
                a0 = a0.addingProduct(wa, load(y0 + i)); a1 = a1.addingProduct(wa, load(y1 + i))
                a2 = a2.addingProduct(wa, load(y2 + i)); a3 = a3.addingProduct(wa, load(y3 + i))
                i += 8
            }
            while i < o {
                t0 = t0.addingProduct(w[i], y0[i]); t1 = t1.addingProduct(w[i], y1[i])
                t2 = t2.addingProduct(w[i], y2[i]); t3 = t3.addingProduct(w[i], y3[i])
                i += 1
            }
        }
        return ((a0 + b0).sum() + t0, (a1 + b1).sum() + t1, (a2 + b2).sum() + t2, (a3 + b3).sum() + t3)
    }

    /// One pixel, with the operations `four` does for each of its pixels.
    @inline(__always)
    static func one(_ weights: UnsafePointer<Float>, _ dY: UnsafePointer<Float>, reads: PixelReads.Reads,
                    count o: Int) -> Float {
        var a = SIMD8<Float>(), b = SIMD8<Float>(), t: Float = 0
        let body = o / 16 * 16, eights = o / 8 * 8
        for r in 0..<reads.count {
            let w = weights + Int(reads.weightOffsets[r]), y = dY + Int(reads.rowOffsets[r])
            var i = 0
            while i < body {
                a = a.addingProduct(load(w + i), load(y + i)); b = b.addingProduct(load(w + i + 8), load(y + i + 8))
                i += 16
            }
            if i < eights {
                a = a.addingProduct(load(w + i), load(y + i))
                i += 8
            }
            while i < o {
                t = t.addingProduct(w[i], y[i])
                i += 1
            }
        }
        return (a + b).sum() + t
    }
}
