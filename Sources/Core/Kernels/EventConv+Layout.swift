// Layout moves between the weight's [O, C, KH, KW] and the event kernels'
// [KH·KW, C, O], and the pixel-major ↔ channel-major transpose.

extension EventConv {
    /// weightT[KH·KW, C, O] ← weight[O, C, KH, KW] (`offsets` = KH·KW).
    public static func offsetMajor(_ weightT: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>,
                                   outChannels o: Int, channels c: Int, offsets: Int) {
        moveWeight(weightT, weight, outChannels: o, channels: c, offsets: offsets, toOffsetMajor: true)
    }

    /// weightT[KH·KW, C, O] ← rows[C·KH·KW, O] (rows in weight order c, ky, kx): whole rows move.
    public static func offsetMajorRows(_ weightT: UnsafeMutablePointer<Float>, _ rows: UnsafePointer<Float>,
                                       outChannels o: Int, channels c: Int, offsets: Int) {
        for cc in 0..<c {
            for k in 0..<offsets {
                (weightT + (k * c + cc) * o).update(from: rows + (cc * offsets + k) * o, count: o)
            }
        }
    }

    /// weight[O, C, KH, KW] ← weightT[KH·KW, C, O] (`offsets` = KH·KW): the inverse of `offsetMajor`.
    public static func outputMajor(_ weight: UnsafeMutablePointer<Float>, _ weightT: UnsafePointer<Float>,
                                   outChannels o: Int, channels c: Int, offsets: Int) {
        moveWeight(weight, weightT, outChannels: o, channels: c, offsets: offsets, toOffsetMajor: false)
    }

    /// Moves every weight value between [O, C, KH·KW] (index i) and
    /// [KH·KW, C, O] (index j): `dst[j] = src[i]` toward offset-major, else
    /// `dst[i] = src[j]`. On the worker threads, in blocks of 16 output
    /// channels, so that the 16 rows of [O, C, KH·KW] stay in cache while
    /// each row of [KH·KW, C, O] gets 16 consecutive values. Plain loops (no
    /// closure per value): these run on every layer's weight every step.
    private static func moveWeight(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>,
                                   outChannels o: Int, channels c: Int, offsets: Int, toOffsetMajor: Bool) {
        let blocks = (o + 15) / 16, rowLength = c * offsets
        Parallel.forEach(Parallel.workers) { part in
            for block in stride(from: part, to: blocks, by: Parallel.workers) {
                let outputs = (block * 16)..<min(o, block * 16 + 16)
                for cc in 0..<c {
                    for k in 0..<offsets {
                        let major = cc * offsets + k, minor = (k * c + cc) * o
                        if toOffsetMajor {
                            for oo in outputs { dst[minor + oo] = src[oo * rowLength + major] }
                        } else {
                            for oo in outputs { dst[oo * rowLength + major] = src[minor + oo] }
                        }
                    }
                }
            }
        }
    }

    /// dst[columns, rows] = src[rows, columns]ᵀ (src row stride `ld`), plus
    /// `shift[c]` on row c of dst when given.
    public static func transpose(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>,
                                 rows: Int, columns: Int, ld: Int, adding shift: [Float]? = nil) {
        // 8×8 tiles keep both sides in cache lines.
        for r0 in stride(from: 0, to: rows, by: 8) {
            let r1 = min(r0 + 8, rows)
            for c0 in stride(from: 0, to: columns, by: 8) {
                let c1 = min(c0 + 8, columns)
                if let shift {
                    for c in c0..<c1 {
                        let s = shift[c]
                        for r in r0..<r1 { dst[c * rows + r] = src[r * ld + c] + s }
                    }
                } else {
                    for r in r0..<r1 {
                        for c in c0..<c1 { dst[c * rows + r] = src[r * ld + c] }
                    }
                }
            }
        }
    }
}
