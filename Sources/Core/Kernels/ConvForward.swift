// Legend: C input channels, H×W input, KH = KW = kernel (KK = KH·KW
// offsets), O output channels, OH×OW output (OP pixels); K = C·KK rows of the
// column matrix; B images of one reduction chunk.

/// The forward of a convolution for the images of one chunk, each image's
/// output [O, OH, OW] written whole with the bias added: `gemm` (im2col + one
/// GEMM) for any input, `events` (`EventConv`) for a sparse one. Both equal
/// the plain loops of `EventConv.reference` (EventConv+Reference.swift)
/// within fp32 rounding.
public enum ConvForward {
    /// y[B, O, OP] = W[O, K] · col[K, B·OP] (+ bias[O]), col the patches of the
    /// B images side by side: one GEMM whose shape depends only on the chunk.
    /// - Parameters:
    ///   - outputs: the B images of y, each [O, OH, OW].
    ///   - inputs: the B images of x, each [C, H, W], in the same order.
    ///   - weight: W [O, K].
    ///   - bias: [O], or nil for none.
    public static func gemm(outputs: [UnsafeMutablePointer<Float>], inputs: [UnsafePointer<Float>],
                            weight: UnsafePointer<Float>, bias: [Float]?, outChannels o: Int, geometry g: ConvGeometry) {
        precondition(inputs.count == outputs.count, "ConvForward.gemm: \(inputs.count) inputs for \(outputs.count) outputs")
        let pixels = g.outPixels, columns = inputs.count * pixels
        let product = ScratchBuffer(count: o * columns), col = ScratchBuffer(count: g.patch * columns)
        Profiler.measure(part: .layout) {
            for (j, image) in inputs.enumerated() {
                Im2col.forward(col: col.pointer, ld: columns, column0: j * pixels, image: image, geometry: g)
            }
        }
        Profiler.measure(part: .gemm) {
            Gemm.sgemm(m: o, n: columns, k: g.patch, a: weight, lda: g.patch,
                       b: col.pointer, ldb: columns, c: product.pointer, ldc: columns)
        }
        // The product [O, B·OP] goes to the images [O, OP] one row at a time.
        Profiler.measure(part: .layout) {
            for (j, y) in outputs.enumerated() {
                for oc in 0..<o {
                    let src = product.pointer + j * pixels + oc * columns, dst = y + oc * pixels
                    let shift = bias?[oc] ?? 0
                    for p in 0..<pixels { dst[p] = src[p] + shift }
                }
            }
        }
    }

    /// y[B, O, OP] = Σ v · weightT[k·C + c, :] over the events v (channel c)
    /// that kernel offset k takes to each output pixel (+ bias[O]): the event
    /// kernels write [OP, O] per image, transposed into y.
    /// - Parameters:
    ///   - outputs: the B images of y, each [O, OH, OW], in the order of `events`' images.
    ///   - events: the nonzero values of the B input images.
    ///   - weightT: W as [KK, C, O] (`EventConv.offsetMajor`).
    ///   - bias: [O], or nil for none.
    public static func events(outputs: [UnsafeMutablePointer<Float>], events: InputEvents,
                              weightT: UnsafePointer<Float>, bias: [Float]?, outChannels o: Int, geometry g: ConvGeometry) {
        precondition(events.imageCount == outputs.count, "ConvForward.events: \(events.imageCount) event images for \(outputs.count) outputs")
        let outImage = o * g.outPixels
        let product = ScratchBuffer(count: outputs.count * outImage)
        Profiler.measure(part: .events) {
            EventConv.forward(out: product.pointer, events: events, images: outputs.indices,
                              weightT: weightT, outChannels: o, geometry: g)
        }
        Profiler.measure(part: .layout) {
            for (j, y) in outputs.enumerated() {
                EventConv.transpose(y, product.pointer + j * outImage, rows: g.outPixels, columns: o, ld: o, adding: bias)
            }
        }
    }
}
