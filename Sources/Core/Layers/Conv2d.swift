// Legend: T time steps, N samples, C input channels, H×W input, O output
// channels, OH×OW output (P pixels), K = C·KH·KW patch rows, B = T·c images
// of one reduction chunk of c samples.

/// 2-D convolution over all time steps `[T, N, C, H, W] → [T, N, O, OH, OW]`
/// (weights shared across time), one reduction chunk at a time:
/// `Y[O, B·P] = W[O, K] · col[K, B·P] (+ bias)` as im2col + one GEMM, or
/// the event-driven kernels for a sparse chunk (`ConvForward`); backward
/// through `ConvWeightGradient` and `ConvInputGradient`. Under `-amp` the
/// operands and results are rounded to bf16 as `Precision` describes, on
/// both the GEMM path and the event-driven path.
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
    /// The forward's offset-major weight, which the gated input gradient reads
    /// too (the weight does not change between a step's forward and backward).
    private var savedWeightT: ScratchBuffer?

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
        let inImage = g.channels * g.inPixels, outImage = outChannels * g.outPixels
        Profiler.count(multiplyAdds: input.shape[0] * input.shape[1] * outChannels * g.patch * g.outPixels)
        let biasValues = productBias(context.precision)
        let steps = StepImages(input.shape, isInputLayer && context.staticInput)
        let chunkImages = context.chunks.map(steps.images(of:))
        var chunkEvents = [InputEvents?](repeating: nil, count: chunkImages.count)
        var forwardWeightT: ScratchBuffer?
        // Every output value is written by a chunk's kernel or copied from one.
        let output = Tensor(shape: outputShape(for: input.shape)) { y in
            input.withPointer { x in
                chunkEvents.withUnsafeMutableBufferPointer { chunkEvents in
                    Parallel.forEach(chunkImages.count) { k in chunkEvents[k] = collectEvents(x, chunkImages[k], inImage: inImage, g) }
                }
                withProductWeight(context.precision) { w in
                    let weightT = chunkEvents.contains { $0 != nil } ? transposedWeight(w) : nil
                    forwardWeightT = weightT
                    Parallel.forEach(chunkImages.count) { k in
                        let outputs = chunkImages[k].map { y + $0 * outImage }
                        if let events = chunkEvents[k], let weightT {
                            ConvForward.events(outputs: outputs, events: events, weightT: weightT.pointer, bias: biasValues,
                                               outChannels: outChannels, geometry: g)
                        } else {
                            ConvForward.gemm(outputs: outputs, inputs: chunkImages[k].map { x + $0 * inImage }, weight: w,
                                             bias: biasValues, outChannels: outChannels, geometry: g)
                        }
                        Profiler.measure(part: .layout) {
                            for (image, first) in zip(chunkImages[k], outputs) {
                                context.precision.round(first, count: outImage)
                                for copy in steps.repeats(of: image) { (y + copy * outImage).update(from: first, count: outImage) }
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
            savedWeightT = savedWindow == nil ? nil : forwardWeightT
        }
        return output
    }

    /// The bias the forward adds (nil without one): the stored values, or
    /// under -amp their bf16 rounding.
    private func productBias(_ precision: Precision) -> [Float]? {
        bias.map { entry in
            store.values.withUnsafeBufferPointer { params in
                let values = params.baseAddress! + entry.offset
                return precision.roundsToBFloat16 ? BFloat16.rounded(values, count: entry.count)
                    : Array(UnsafeBufferPointer(start: values, count: entry.count))
            }
        }
    }

    /// Whether a chunk's input gradient is computed at its open values only:
    /// at most `gatedDensityLimit` of its images' values are open.
    private func takesGate(_ window: OpenWindow, _ chunkImages: [Int], inImage: Int) -> Bool {
        window.flags.withUnsafeBufferPointer { all in
            let open = chunkImages.reduce(0) { $0 + OpenWindow.openCount(all.baseAddress! + $1 * inImage, count: inImage) }
            return Float(open) <= Conv2d.gatedDensityLimit * Float(chunkImages.count * inImage)
        }
    }

    /// The weight `w` [O, C, KH, KW] as [KH·KW, C, O]: the rows the event kernels add up.
    private func transposedWeight(_ w: UnsafePointer<Float>) -> ScratchBuffer {
        let weightT = ScratchBuffer(count: weight.count)
        EventConv.offsetMajor(weightT.pointer, w, outChannels: outChannels, channels: inChannels, offsets: kernel * kernel)
        return weightT
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
        let window = Conv2d.gatedDensityLimit > 0 ? savedWindow : nil, forwardWeightT = savedWeightT
        savedInput = nil; savedEvents = []; savedShape = []; savedWindow = nil; savedWeightT = nil
        let g = geometry(shape)
        let inImage = g.channels * g.inPixels, weightCount = weight.count
        let partialCount = weightCount + (bias == nil ? 0 : outChannels)
        let partials = ScratchBuffer(count: context.layout.chunkCount * partialCount)
        let steps = StepImages(shape, isInputLayer && context.staticInput)
        // Nothing consumes the network input's gradient: the input layer
        // returns a one-element placeholder instead.
        var gradInput = Tensor(zeros: isInputLayer ? [1] : shape)
        input.withPointer { x in
            gradOutput.withPointer { dy in
                gradInput.withMutablePointer { dx in
                    withProductWeight(context.precision) { w in
                        let gate = window.map { (window: $0, weightT: forwardWeightT ?? transposedWeight(w)) }
                        Parallel.forEach(context.chunks.count) { k in
                            let chunkImages = steps.images(of: context.chunks[k])
                            let gradOut = gatherGradient(dy, chunkImages, steps, g), ld = chunkImages.count * g.outPixels
                            // The chunk's partial: dWᵀ [KH·KW, C, O] (`ConvWeightGradient`), then dbias [O].
                            let partial = partials.pointer + k * partialCount
                            if bias != nil {
                                ConvWeightGradient.bias(gradBias: partial + weightCount, gradOut: gradOut.pointer, columns: ld, outChannels: outChannels)
                            }
                            if let events = chunkEvents[k] {
                                ConvWeightGradient.events(gradWeightT: partial, events: events, gradOut: gradOut.pointer, ld: ld,
                                                          outChannels: outChannels, geometry: g)
                            } else {
                                ConvWeightGradient.gemm(gradWeightT: partial, inputs: chunkImages.map { x + $0 * inImage },
                                                        gradOut: gradOut.pointer, ld: ld, outChannels: outChannels, geometry: g)
                            }
                            context.precision.round(partial, count: partialCount)
                            guard !isInputLayer else { return }
                            inputGradient(chunkImages.map { dx + $0 * inImage }, chunkImages, gradOut: gradOut.pointer, ld: ld,
                                          weight: w, gate: gate, g, context.precision)
                        }
                    }
                }
            }
        }
        accumulateGradients(partials, count: partialCount, context)
        return gradInput
    }

    /// dx of a chunk's images, rounded under -amp: only at the open values
    /// (`ConvInputGradient.gated`) when few of the chunk's input values have
    /// an open surrogate window (elsewhere the neuron below multiplies this
    /// gradient by zero), else everywhere (`ConvInputGradient.dense`).
    /// - Parameters:
    ///   - dxImages: the chunk's images of dx [C, H, W], in dY's column order.
    ///   - gradOut: dY [O, ld] of the chunk.
    ///   - weight: W [O, C, KH, KW]; `gate` holds it as [KH·KW, C, O] with the input's open window.
    private func inputGradient(_ dxImages: [UnsafeMutablePointer<Float>], _ chunkImages: [Int], gradOut: UnsafePointer<Float>, ld: Int,
                               weight: UnsafePointer<Float>, gate: (window: OpenWindow, weightT: ScratchBuffer)?,
                               _ g: ConvGeometry, _ precision: Precision) {
        let inImage = g.channels * g.inPixels
        if let gate, takesGate(gate.window, chunkImages, inImage: inImage) {
            gate.window.flags.withUnsafeBufferPointer { all in
                ConvInputGradient.gated(images: dxImages, flags: chunkImages.map { all.baseAddress! + $0 * inImage },
                                        gradOut: gradOut, ld: ld, weightT: gate.weightT.pointer, outChannels: outChannels, geometry: g)
            }
        } else {
            ConvInputGradient.dense(images: dxImages, gradOut: gradOut, ld: ld, weight: weight, outChannels: outChannels, geometry: g)
        }
        Profiler.measure(part: .layout) {
            for image in dxImages { precision.round(image, count: inImage) }
        }
    }

    /// dY [T, N, O, OH·OW] of a chunk's images as [O, B·OH·OW], each image
    /// with the later steps that repeat it (a static input) added in time order.
    private func gatherGradient(_ dy: UnsafePointer<Float>, _ chunkImages: [Int], _ steps: StepImages, _ g: ConvGeometry) -> ScratchBuffer {
        let pixels = g.outPixels, columns = chunkImages.count * pixels, outImage = outChannels * pixels
        let gathered = ScratchBuffer(count: outChannels * columns)
        Profiler.measure(part: .layout) {
            for (j, image) in chunkImages.enumerated() {
                for o in 0..<outChannels {
                    let dst = gathered.pointer + o * columns + j * pixels
                    dst.update(from: dy + image * outImage + o * pixels, count: pixels)
                    for copy in steps.repeats(of: image) { Im2col.addRun(dst, dy + copy * outImage + o * pixels, count: pixels) }
                }
            }
        }
        return gathered
    }

    /// Adds the chunks' partials [dWᵀ, dbias], once summed over the chunks
    /// of every rank in a fixed order, to the weight and bias gradients.
    private func accumulateGradients(_ partials: ScratchBuffer, count: Int, _ context: StepContext) {
        let weightCount = weight.count
        context.reducer.sumDeferred(partials, chunks: context.layout.chunkCount, count: count) { [store, weight, bias, outChannels, inChannels, kernel] totals in
            totals.withUnsafeBufferPointer { sums in
                let gradWeight = ScratchBuffer(count: weightCount)
                EventConv.outputMajor(gradWeight.pointer, sums.baseAddress!, outChannels: outChannels,
                                      channels: inChannels, offsets: kernel * kernel)
                store.accumulateGradient(weight, gradWeight.pointer)
                if let bias { store.accumulateGradient(bias, sums.baseAddress! + weightCount) }
            }
        }
    }
}

/// Where a chunk's images sit among the T·N images of [T, N, …]. With a
/// static input only the first time step is computed; the later steps
/// repeat it.
private struct StepImages {
    let timeSteps: Int, batch: Int, computed: Int

    init(_ shape: [Int], _ staticInput: Bool) {
        timeSteps = shape[0]; batch = shape[1]; computed = staticInput ? 1 : shape[0]
    }

    /// The images of one chunk in column order: (t, sample) for t-major, over the computed steps.
    func images(of chunk: Range<Int>) -> [Int] {
        (0..<computed).flatMap { t in chunk.map { t * batch + $0 } }
    }

    /// The images that repeat `image` at the later steps, in time order (none without a static input).
    func repeats(of image: Int) -> StrideTo<Int> {
        stride(from: image + computed * batch, to: timeSteps * batch, by: computed * batch)
    }
}
