// Legend: C input channels, H×W input, KH = KW = kernel (KK = KH·KW
// offsets), O output channels, OH×OW output (OP pixels); K = C·KK rows of the
// column matrix; B images of one reduction chunk, whose output gradient is
// gathered as dY [O, B·OP].

/// The weight and bias gradients of a convolution for the images of one
/// chunk. The weight gradient comes out as dWᵀ [KK, C, O], the event
/// kernels' layout, on either path: every chunk's partial (on every rank)
/// must share one layout for the deterministic sum. `gemm` for any input,
/// `events` for a sparse one; both equal the plain loops of
/// `EventConv.referenceWeightGradient` (EventConv+Reference.swift) within
/// fp32 rounding.
public enum ConvWeightGradient {
    /// gradWeightT[KK, C, O] = the rows of col[K, B·OP] · dY[O, B·OP]ᵀ (in
    /// weight order c, ky, kx) moved to (ky, kx, c) order; col holds the
    /// patches of the B images side by side. Overwrites gradWeightT.
    /// - Parameters:
    ///   - inputs: the B images of x, each [C, H, W], in dY's column order.
    ///   - gradOut: dY [O, ld], the chunk's images from column 0.
    public static func gemm(gradWeightT: UnsafeMutablePointer<Float>, inputs: [UnsafePointer<Float>],
                            gradOut: UnsafePointer<Float>, ld: Int, outChannels o: Int, geometry g: ConvGeometry) {
        let pixels = g.outPixels, columns = inputs.count * pixels
        precondition(ld >= columns, "ConvWeightGradient.gemm: dY row stride \(ld) < \(columns) columns")
        let col = ScratchBuffer(count: g.patch * columns)
        Profiler.measure(part: .layout) {
            for (j, image) in inputs.enumerated() {
                Im2col.forward(col: col.pointer, ld: columns, column0: j * pixels, image: image, geometry: g)
            }
        }
        let rows = ScratchBuffer(count: g.patch * o)
        Profiler.measure(part: .gemm) {
            Gemm.sgemm(transB: true, m: g.patch, n: o, k: columns, a: col.pointer, lda: columns,
                       b: gradOut, ldb: ld, c: rows.pointer, ldc: o)
        }
        Profiler.measure(part: .layout) {
            EventConv.offsetMajorRows(gradWeightT, rows.pointer, outChannels: o, channels: g.channels, offsets: g.kernel * g.kernel)
        }
    }

    /// gradWeightT[KK, C, O] = Σ v · dY[p, :] into row k·C + c over the events v
    /// (channel c) and the kernel offsets k that take them to output pixel p
    /// (`EventConv.weightGradient`). Overwrites gradWeightT.
    /// - Parameters:
    ///   - events: the nonzero values of the B input images, in dY's column order.
    ///   - gradOut: dY [O, ld], the chunk's images from column 0.
    public static func events(gradWeightT: UnsafeMutablePointer<Float>, events: InputEvents,
                              gradOut: UnsafePointer<Float>, ld: Int, outChannels o: Int, geometry g: ConvGeometry) {
        Profiler.measure(part: .events) {
            EventConv.weightGradient(gradWeightT: gradWeightT, events: events, gradOut: gradOut, ld: ld, outChannels: o, geometry: g)
        }
    }

    /// gradBias[O] = Σ dY[o, :] over the chunk's `columns` (B·OP) columns.
    /// - Parameter gradOut: dY [O, columns].
    public static func bias(gradBias: UnsafeMutablePointer<Float>, gradOut: UnsafePointer<Float>, columns: Int, outChannels o: Int) {
        Profiler.measure(part: .layout) {
            for oc in 0..<o { gradBias[oc] = RowSums.sum(gradOut + oc * columns, count: columns) }
        }
    }
}
