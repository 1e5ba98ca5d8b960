import Foundation

/// A layer of spiking neurons over `[T, N, …]`: the fused multi-step kernel
/// runs per reduction chunk (columns of the chunk's samples); PLIF's
/// learnable decay `w` (one scalar per layer, `k = sigmoid(w)`, initialised
/// to `−ln(tau − 1)`) gets its gradient through the step's reducer.
///
/// Training keeps only the layer's input for backward, which runs the
/// forward kernel again to rebuild h (and CLIF's m): one value per neuron
/// kept across the step instead of two for CLIF, for a second forward pass
/// (a few per cent of a step).
public final class SpikingNeuron: Layer {
    public var profileKind: Profiler.Kind? { .neuron }
    public var config: NeuronConfig
    public let decayParameter: StoreEntry?
    private let store: ParameterStore
    private var savedInput: Tensor?
    /// Where the surrogate window was open in the last training forward (nil
    /// in evaluation and for the sigmoid surrogate, which has no zero region).
    public private(set) var openWindow: OpenWindow?

    public init(_ builder: ModelBuilder, _ name: String, config: NeuronConfig) {
        self.config = config
        store = builder.parameters
        if config.model == .plif {
            let initial = -Foundation.log(config.tau - 1)
            decayParameter = builder.scope(name) { builder.parameter("w", shape: [], initializer: .constant(initial)) }
        } else {
            decayParameter = nil
        }
    }

    /// k: 1/tau, or sigmoid(w) for PLIF.
    public var decay: Float {
        guard let w = decayParameter else { return 1 / config.tau }
        return 1 / (1 + Foundation.exp(-store.values[w.offset]))
    }

    /// Runs the forward kernel over every chunk: spikes, and h and m into
    /// `charged` / `memory` ([T, M] each; memory for CLIF only) unless
    /// `charged` is nil (spikes only, and the open-window flags when
    /// `openWindow` is given).
    private func run(_ input: Tensor, spikes: UnsafeMutablePointer<Float>, charged: UnsafeMutablePointer<Float>?,
                     memory: UnsafeMutablePointer<Float>?, openWindow: UnsafeMutablePointer<UInt8>? = nil, _ context: StepContext) {
        let t = input.shape[0], n = input.shape[1]
        let width = t == 0 ? 0 : input.count / t, perSample = n == 0 ? 0 : width / n
        let k = decay
        input.withPointer { x in
            Parallel.forEach(context.chunks.count) { index in
                let chunk = context.chunks[index]
                let columns = (chunk.lowerBound * perSample)..<(chunk.upperBound * perSample)
                if let charged {
                    NeuronKernels.forward(spikes: spikes, charged: charged, memory: memory, input: x,
                                          timeSteps: t, width: width, columns: columns, config: config, decay: k)
                } else {
                    NeuronKernels.spikes(spikes, openWindow: openWindow, input: x, timeSteps: t, width: width, columns: columns,
                                         config: config, decay: k)
                }
            }
        }
    }

    public func forward(_ input: Tensor, _ context: StepContext) -> Tensor {
        savedInput = nil
        openWindow = nil
        // h and m are not kept: backward runs the kernel again. The window
        // flags are made here, where h is known, for the layers downstream
        // whose backward runs before this one's.
        let marksWindow = context.training && config.surrogate.supportHalfWidth != nil
        var flags = [UInt8]()
        var spikes = Tensor(shape: input.shape) { s in
            if marksWindow {
                flags = [UInt8](unsafeUninitializedCapacity: input.count) { buffer, initialized in
                    run(input, spikes: s, charged: nil, memory: nil, openWindow: buffer.baseAddress, context)
                    initialized = input.count
                }
            } else {
                run(input, spikes: s, charged: nil, memory: nil, context)
            }
        }
        if marksWindow {
            openWindow = OpenWindow(flags: flags, shape: input.shape)
            spikes.openWindow = openWindow
        }
        if context.training { savedInput = input }
        return spikes
    }

    /// The membrane of one sample as `forward` computes it from `input`
    /// (`[T, N, …]`): h_t after charging, before firing and reset, and for
    /// CLIF the memory m_t, each `[T, per-sample size]`. Reads nothing the
    /// layer keeps, so it serves observers without changing a step.
    public func potentials(of input: Tensor, sample: Int) -> (charged: [Float], memory: [Float]?) {
        let t = input.shape[0], n = input.shape[1]
        precondition(input.rank >= 2 && (0..<n).contains(sample), "SpikingNeuron.potentials: sample \(sample) of shape \(input.shape)")
        let perSample = input.count / max(1, t * n)
        var x = [Float](repeating: 0, count: t * perSample)
        input.withPointer { p in
            for step in 0..<t {
                for i in 0..<perSample { x[step * perSample + i] = p[(step * n + sample) * perSample + i] }
            }
        }
        let clif = config.model == .clif
        var charged = [Float](repeating: 0, count: x.count), spikes = charged
        var memory = [Float](repeating: 0, count: clif ? x.count : 0)
        guard !x.isEmpty else { return (charged, clif ? memory : nil) }
        let k = decay
        x.withUnsafeBufferPointer { x in
            spikes.withUnsafeMutableBufferPointer { s in
                charged.withUnsafeMutableBufferPointer { h in
                    memory.withUnsafeMutableBufferPointer { m in
                        NeuronKernels.forward(spikes: s.baseAddress!, charged: h.baseAddress!, memory: clif ? m.baseAddress : nil,
                                              input: x.baseAddress!, timeSteps: t, width: perSample,
                                              columns: 0..<perSample, config: config, decay: k)
                    }
                }
            }
        }
        return (charged, clif ? memory : nil)
    }

    public func backward(_ gradOutput: Tensor, _ context: StepContext) -> Tensor {
        guard let input = savedInput, input.shape == gradOutput.shape else {
            preconditionFailure("SpikingNeuron.backward without a matching training forward")
        }
        savedInput = nil
        let t = input.shape[0], n = input.shape[1]
        let width = t == 0 ? 0 : gradOutput.count / t, perSample = n == 0 ? 0 : width / n
        // Rebuild h and m: the same kernel on the same input gives the same bits.
        let charged = ScratchBuffer(count: input.count)
        let memory = config.model == .clif ? ScratchBuffer(count: input.count) : nil
        let spikes = ScratchBuffer(count: input.count)
        run(input, spikes: spikes.pointer, charged: charged.pointer, memory: memory?.pointer, context)
        var partials = [Float](repeating: 0, count: context.layout.chunkCount)
        let k = decay
        // The chunks' columns cover the whole width: the kernel writes every value of dx.
        let gradInput = Tensor(shape: input.shape) { dx in
            gradOutput.withPointer { dy in
                partials.withUnsafeMutableBufferPointer { partial in
                    Parallel.forEach(context.chunks.count) { index in
                        let chunk = context.chunks[index]
                        partial[index] = NeuronKernels.backward(
                            gradInput: dx, gradSpikes: dy, charged: charged.pointer, memory: memory.map { UnsafePointer($0.pointer) },
                            timeSteps: t, width: width,
                            columns: (chunk.lowerBound * perSample)..<(chunk.upperBound * perSample),
                            config: config, decay: k)
                    }
                }
            }
        }
        if let w = decayParameter {
            context.reducer.sumDeferred(partials, chunks: context.layout.chunkCount, count: 1) { [store] totals in
                // dL/dw = dL/dk · k(1 − k)
                var gradW = totals[0] * k * (1 - k)
                store.accumulateGradient(w, &gradW)
            }
        }
        return gradInput
    }
}

/// ReLU for the ANN baseline.
public final class ReLU: Layer {
    public var profileKind: Profiler.Kind? { .neuron }
    private var mask: [Bool] = []

    public init() {}

    public func forward(_ input: Tensor, _ context: StepContext) -> Tensor {
        var y = input
        for i in 0..<y.count where y.data[i] < 0 { y.data[i] = 0 }
        if context.training { mask = input.data.map { $0 > 0 } }
        return y
    }

    public func backward(_ gradOutput: Tensor, _ context: StepContext) -> Tensor {
        var dx = gradOutput
        for i in 0..<dx.count where !mask[i] { dx.data[i] = 0 }
        return dx
    }
}
