// Legend: T time steps, N samples, C input channels, H×W input, O output
// channels, OH×OW output (P pixels), K = C·KH·KW patch rows, B = T·c images
// of one reduction chunk of c samples.

/// 2-D convolution over all time steps `[T, N, C, H, W] → [T, N, O, OH, OW]`
/// (weights shared across time), as im2col + one GEMM per reduction chunk:
/// `Y[O, B·P] = W[O, K] · col[K, B·P] (+ bias)`. Under `-amp` the operands
/// and results are rounded to bf16 as `Precision` describes, on both the
/// GEMM path and the event-driven path.
public final class Conv2d: Layer {
    public var profileKind: Profiler.Kind? { .convolution }
    public let inChannels: Int, outChannels: Int
    public let kernel: Int, stride: Int, padding: Int
    public let weight: StoreEntry
    public let bias: StoreEntry?
    /// The network's first layer: its input needs no gradient, and with a
    /// static input (`StepContext.staticInput`) it is computed for one time
    /// step and copied to the others (its backward sums dY over time first).
    public let isInputLayer: Bool
    private let store: ParameterStore
    private var savedInput: Tensor?
    private var savedEvents: [InputEvents?] = []
    private var savedWindow: OpenWindow?
    private var savedShape: [Int] = []

    /// `weightInit` defaults to the original's Kaiming-normal (fan_out, ReLU
    /// gain); the bias defaults to PyTorch's U(±1/√fan_in).
    public init(_ builder: ModelBuilder, _ name: String, inChannels: Int, outChannels: Int,
                kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                weightInit: Initializer = .kaimingNormalFanOut, biasInit: Initializer? = nil, isInputLayer: Bool = false) {
        self.isInputLayer = isInputLayer
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        store = builder.parameters
        let fanIn = inChannels * kernel * kernel
        (weight, self.bias) = builder.scope(name) {
            (builder.parameter("weight", shape: [outChannels, inChannels, kernel, kernel], initializer: weightInit),
             bias ? builder.parameter("bias", shape: [outChannels],
                                      initializer: biasInit ?? .defaultBias(fanIn: fanIn)) : nil)
        }
        builder.synapse(name, self)
    }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        let g = geometry(inputShape)
        return [inputShape[0], inputShape[1], outChannels, g.outHeight, g.outWidth]
    }

    func geometry(_ shape: [Int]) -> ConvGeometry {
        precondition(shape.count == 5 && shape[2] == inChannels,
                     "Conv2d: expected [T, N, \(inChannels), H, W], got \(shape)")
        return ConvGeometry(channels: inChannels, height: shape[3], width: shape[4],
                            kernel: kernel, stride: stride, padding: padding)
    }

    /// The images of one chunk in column order: (t, sample) for t-major.
    private func images(of chunk: Range<Int>, timeSteps: Int, batch: Int) -> [Int] {
        (0..<timeSteps).flatMap { t in chunk.map { t * batch + $0 } }
    }

    /// Time steps the GEMMs cover: one when a static input repeats.
    private func computedSteps(_ t: Int, _ context: StepContext) -> Int {
        isInputLayer && context.staticInput ? 1 : t
    }

    /// The largest fraction of nonzero inputs at which a chunk takes the
    /// event-driven kernels (`EventConv`) instead of im2col + GEMM. The
    /// choice is made per reduction chunk from that chunk's own input, so it
    /// does not depend on the rank or thread count.
    nonisolated(unsafe) public static var eventDensityLimit: Float = 0.25

    /// The largest fraction of open-window input values (`OpenWindow`, set
    /// when the input is a spiking layer's output) at which a chunk computes
    /// its input gradient only at them (`ConvInputGradient.gated`) instead
    /// of everywhere. Chosen per chunk from that chunk's own flags, so it does
    /// not depend on the rank or thread count. The gated kernel does that
    /// fraction of the dense multiply-adds, less efficiently than the GEMM;
    /// spiking_resnet18 CLIF has 0.17–0.29 open, where it cuts a training
    /// step's CPU time by about a third (`clif-mpi bench`). The limit itself
    /// is not tuned by measurement. 0 turns the gate off.
    nonisolated(unsafe) public static var gatedDensityLimit: Float = 0.35

    /// Reads the nonzero inputs of a chunk, or nil when they are too many for
    /// the event-driven kernels.
    private func collectEvents(_ x: UnsafePointer<Float>, _ chunkImages: [Int], inImage: Int, _ g: ConvGeometry) -> InputEvents? {
        guard Conv2d.eventDensityLimit > 0 else { return nil }
        return Profiler.measure(part: .events) {
            // Counting first is cheap next to collecting: dense inputs skip it.
            let limit = Int(Conv2d.eventDensityLimit * Float(chunkImages.count * inImage))
            var nonzero = 0
            for image in chunkImages {
                nonzero += InputEvents.nonzeroCount(x + image * inImage, count: inImage)
                if nonzero > limit { return nil }
            }
            return InputEvents(images: chunkImages.map { x + $0 * inImage }, channels: g.channels, height: g.height, width: g.width)
        }
    }

    public func forward(_ original: Tensor, _ context: StepContext) -> Tensor {
        // Under -amp the products see bf16 operands (see `Precision`); a spike
        // is exact in bf16, an image pixel or a dropout-scaled spike may not be.
        let input = context.precision.operand(original)
        let g = geometry(input.shape)
        let t = input.shape[0], n = input.shape[1], pixels = g.outPixels
        let inImage = g.channels * g.inPixels, outImage = outChannels * pixels
        Profiler.count(multiplyAdds: t * n * outChannels * g.patch * pixels)
        let biasValues = bias.map { entry in
            store.values.withUnsafeBufferPointer { params in
                let values = params.baseAddress! + entry.offset
                return context.precision.roundsToBFloat16 ? BFloat16.rounded(values, count: entry.count)
                    : Array(UnsafeBufferPointer(start: values, count: entry.count))
            }
        }
        let steps = computedSteps(t, context)
        var chunkEvents = [InputEvents?](repeating: nil, count: context.chunks.count)
        // Every output value is written by the scatter below.
        let output = Tensor(shape: outputShape(for: input.shape)) { y in
            input.withPointer { x in
                chunkEvents.withUnsafeMutableBufferPointer { chunkEvents in
                    Parallel.forEach(context.chunks.count) { k in
                        chunkEvents[k] = collectEvents(x, images(of: context.chunks[k], timeSteps: steps, batch: n), inImage: inImage, g)
                    }
                }
                withProductWeight(context.precision) { w in
                    let weightT = chunkEvents.contains { $0 != nil } ? transposedWeight(w) : nil
                    Parallel.forEach(context.chunks.count) { k in
                        let chunkImages = images(of: context.chunks[k], timeSteps: steps, batch: n)
                        let columns = chunkImages.count * pixels
                        let product = ScratchBuffer(count: outChannels * columns)
                        if let events = chunkEvents[k], let weightT {
                            // Event-driven: product[P, O] per image.
                            Profiler.measure(part: .events) {
                                weightT.withUnsafeBufferPointer { wt in
                                    EventConv.forward(out: product.pointer, events: events, images: chunkImages.indices,
                                                      weightT: wt.baseAddress!, outChannels: outChannels, geometry: g)
                                }
                            }
                        } else {
                            let col = ScratchBuffer(count: g.patch * columns)
                            Profiler.measure(part: .layout) {
                                for (j, image) in chunkImages.enumerated() {
                                    Im2col.forward(col: col.pointer, ld: columns, column0: j * pixels,
                                                   image: x + image * inImage, geometry: g)
                                }
                            }
                            Profiler.measure(part: .gemm) {
                                Gemm.sgemm(m: outChannels, n: columns, k: g.patch, a: w, lda: g.patch,
                                           b: col.pointer, ldb: columns, c: product.pointer, ldc: columns)
                            }
                        }
                        // Scatter the product ([O, B·P], or [P, O] per image after the
                        // event kernels) into [T, N, O, P], adding the bias (and copying
                        // a static input's one step to every step).
                        Profiler.measure(part: .layout) {
                            for (j, image) in chunkImages.enumerated() {
                                let first = y + image * outImage
                                if chunkEvents[k] != nil {
                                    EventConv.transpose(first, product.pointer + j * outImage, rows: pixels, columns: outChannels,
                                                        ld: outChannels, adding: biasValues)
                                } else {
                                    for o in 0..<outChannels {
                                        let src = product.pointer + j * pixels + o * columns, dst = first + o * pixels
                                        let shift = biasValues?[o] ?? 0
                                        for p in 0..<pixels { dst[p] = src[p] + shift }
                                    }
                                }
                                context.precision.round(first, count: outImage)
                                for copy in Swift.stride(from: image + steps * n, to: t * n, by: steps * n) {
                                    (y + copy * outImage).update(from: first, count: outImage)
                                }
                            }
                        }
                    }
                }
            }
        }
        if context.training {
            // Chunks that took the event kernels keep only their events for backward.
            savedEvents = chunkEvents
            savedInput = chunkEvents.contains { $0 == nil } ? input : nil
            savedShape = input.shape
            savedWindow = isInputLayer ? nil : original.openWindow.flatMap { $0.shape == input.shape ? $0 : nil }
        }
        return output
    }

    /// Whether a chunk's input gradient is computed at its open values only:
    /// at most `gatedDensityLimit` of its images' values are open.
    private func takesGate(_ window: OpenWindow, _ chunkImages: [Int], inImage: Int) -> Bool {
        window.flags.withUnsafeBufferPointer { all in
            var open = 0
            for image in chunkImages {
                let flags = all.baseAddress! + image * inImage
                for i in 0..<inImage { open += Int(flags[i]) }
            }
            return Float(open) <= Conv2d.gatedDensityLimit * Float(chunkImages.count * inImage)
        }
    }

    /// The weight `w` [O, C, KH, KW] as [KH·KW, C, O]: the rows the event kernels add up.
    private func transposedWeight(_ w: UnsafePointer<Float>) -> [Float] {
        [Float](unsafeUninitializedCapacity: weight.count) { buffer, initialized in
            EventConv.offsetMajor(buffer.baseAddress!, w, outChannels: outChannels, channels: inChannels,
                                  offsets: kernel * kernel)
            initialized = weight.count
        }
    }

    /// Runs `body` with the weight the products use: the stored fp32 weight,
    /// or under -amp its bf16-rounded copy.
    private func withProductWeight<R>(_ precision: Precision, _ body: (UnsafePointer<Float>) -> R) -> R {
        store.values.withUnsafeBufferPointer { precision.withOperand($0.baseAddress! + weight.offset, count: weight.count, body) }
    }

    public func backward(_ incomingGradient: Tensor, _ context: StepContext) -> Tensor {
        let gradOutput = context.precision.operand(incomingGradient)
        guard savedShape.count == 5, savedEvents.count == context.chunks.count else {
            preconditionFailure("Conv2d.backward without a training forward")
        }
        let shape = savedShape, input = savedInput ?? Tensor(zeros: [0]), chunkEvents = savedEvents
        let window = Conv2d.gatedDensityLimit > 0 ? savedWindow : nil
        savedInput = nil; savedEvents = []; savedShape = []; savedWindow = nil
        let g = geometry(shape)
        let t = shape[0], n = shape[1], pixels = g.outPixels
        let inImage = g.channels * g.inPixels, outImage = outChannels * pixels
        let weightCount = weight.count
        let partialCount = weightCount + (bias == nil ? 0 : outChannels)
        let partials = ScratchBuffer(count: context.layout.chunkCount * partialCount)
        let steps = computedSteps(t, context)
        // Nothing consumes the network input's gradient: the input layer
        // returns a one-element placeholder instead.
        var gradInput = Tensor(zeros: isInputLayer ? [1] : shape)
        input.withPointer { x in
            gradOutput.withPointer { dy in
                gradInput.withMutablePointer { dx in
                    withProductWeight(context.precision) { w in
                        let weightT = window == nil ? nil : transposedWeight(w)
                        Parallel.forEach(context.chunks.count) { k in
                            let chunkImages = images(of: context.chunks[k], timeSteps: steps, batch: n)
                            let columns = chunkImages.count * pixels
                            let gradProduct = ScratchBuffer(count: outChannels * columns)
                            let partial = partials.pointer + k * partialCount
                            // Gather dY [T, N, O, P] into [O, B·P] (a static input's
                            // copies summed in time order).
                            Profiler.measure(part: .layout) {
                                for (j, image) in chunkImages.enumerated() {
                                    for o in 0..<outChannels {
                                        let dst = gradProduct.pointer + o * columns + j * pixels
                                        dst.update(from: dy + image * outImage + o * pixels, count: pixels)
                                        for copy in Swift.stride(from: image + steps * n, to: t * n, by: steps * n) {
                                            let src = dy + copy * outImage + o * pixels
                                            Im2col.addRun(dst, src, count: pixels)
                                        }
                                    }
                                }
                                if bias != nil {
                                    for o in 0..<outChannels {
                                        partial[weightCount + o] = RowSums.sum(gradProduct.pointer + o * columns, count: columns)
                                    }
                                }
                            }
                            // The chunk's weight gradient goes to its partial as dWᵀ
                            // [KH·KW, C, O], the event kernels' layout, on either path:
                            // every rank's partials must share one layout for the sum.
                            if let events = chunkEvents[k] {
                                Profiler.measure(part: .events) {
                                    partial.update(repeating: 0, count: weightCount)
                                    EventConv.weightGradient(gradWeightT: partial, events: events, gradOut: gradProduct.pointer, ld: columns,
                                                             outChannels: outChannels, geometry: g)
                                }
                            } else {
                                let col = ScratchBuffer(count: g.patch * columns)
                                Profiler.measure(part: .layout) {
                                    for (j, image) in chunkImages.enumerated() {
                                        Im2col.forward(col: col.pointer, ld: columns, column0: j * pixels,
                                                       image: x + image * inImage, geometry: g)
                                    }
                                }
                                // dWᵀ[K, O] = col[K, B·P] · dY[O, B·P]ᵀ (rows in weight order c, ky, kx) ...
                                let gradWeightT = ScratchBuffer(count: weightCount)
                                Profiler.measure(part: .gemm) {
                                    Gemm.sgemm(transB: true, m: g.patch, n: outChannels, k: columns,
                                               a: col.pointer, lda: columns, b: gradProduct.pointer, ldb: columns,
                                               c: gradWeightT.pointer, ldc: outChannels)
                                }
                                // ... whose rows move to (ky, kx, c) order.
                                Profiler.measure(part: .layout) {
                                    EventConv.offsetMajorRows(partial, gradWeightT.pointer, outChannels: outChannels,
                                                              channels: inChannels, offsets: kernel * kernel)
                                }
                            }
                            context.precision.round(partial, count: partialCount)
                            guard !isInputLayer else { return }
                            let dxImages = chunkImages.map { dx + $0 * inImage }
                            if let window, let weightT, takesGate(window, chunkImages, inImage: inImage) {
                                // Only where the input's surrogate window is open: elsewhere
                                // the neuron below multiplies this gradient by zero.
                                window.flags.withUnsafeBufferPointer { all in
                                    weightT.withUnsafeBufferPointer { wt in
                                        ConvInputGradient.gated(images: dxImages, flags: chunkImages.map { all.baseAddress! + $0 * inImage },
                                                                gradOut: gradProduct.pointer, ld: columns,
                                                                weightT: wt.baseAddress!, outChannels: outChannels, geometry: g)
                                    }
                                }
                            } else {
                                ConvInputGradient.dense(images: dxImages, gradOut: gradProduct.pointer, ld: columns,
                                                        weight: w, outChannels: outChannels, geometry: g)
                            }
                            Profiler.measure(part: .layout) {
                                for image in chunkImages { context.precision.round(dx + image * inImage, count: inImage) }
                            }
                        }
                    }
                }
            }
        }
        context.reducer.sumDeferred(partials, chunks: context.layout.chunkCount, count: partialCount) { [store, weight, bias, outChannels, inChannels, kernel] totals in
            totals.withUnsafeBufferPointer { sums in
                let gradWeight = ScratchBuffer(count: weightCount)
                EventConv.outputMajor(gradWeight.pointer, sums.baseAddress!, outChannels: outChannels,
                                      channels: inChannels, offsets: kernel * kernel)
                store.accumulateGradient(weight, gradWeight.pointer)
                if let bias { store.accumulateGradient(bias, sums.baseAddress! + weightCount) }
            }
        }
        return gradInput
    }
}
