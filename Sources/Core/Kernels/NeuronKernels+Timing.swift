import Foundation

extension NeuronKernels {
    /// The best of five forward and five backward passes of `model` (rectangle
    /// surrogate) on this thread over `timeSteps` × `width` neurons, in seconds.
    public static func time(_ model: NeuronModel, timeSteps: Int, width: Int) -> (forward: Double, backward: Double) {
        var stream = RandomStream(seed: 1)
        let count = timeSteps * width
        let input = (0..<count).map { _ in 0.3 + 0.8 * stream.normal() }
        let gradSpikes = (0..<count).map { _ in stream.normal() }
        let spikes = ScratchBuffer(count: count), charged = ScratchBuffer(count: count)
        let memory = ScratchBuffer(count: count), gradInput = ScratchBuffer(count: count)
        for buffer in [spikes, charged, memory, gradInput] { buffer.pointer.update(repeating: 0, count: count) }
        let config = NeuronConfig(model: model, surrogate: .rectangle)
        let mem = model == .clif ? memory.pointer : nil
        var forward = Double.infinity, backward = Double.infinity
        for _ in 0..<5 {
            var start = Date()
            NeuronKernels.forward(spikes: spikes.pointer, charged: charged.pointer, memory: mem, input: input,
                                  timeSteps: timeSteps, width: width, columns: 0..<width, config: config, decay: 0.5)
            forward = min(forward, Date().timeIntervalSince(start))
            start = Date()
            _ = NeuronKernels.backward(gradInput: gradInput.pointer, gradSpikes: gradSpikes, charged: charged.pointer,
                                       memory: mem.map { UnsafePointer($0) }, timeSteps: timeSteps, width: width,
                                       columns: 0..<width, config: config, decay: 0.5)
            backward = min(backward, Date().timeIntervalSince(start))
        }
        return (forward, backward)
    }

    /// `bench --neuron-kernels`: says a line per neuron model, once it is
    /// timed (`time`), with its forward and backward throughput on this
    /// thread in million elements per second.
    public static func timeEveryModel(timeSteps: Int, width: Int, say: (String) -> Void) {
        let count = Double(timeSteps * width)
        for model in NeuronModel.allCases {
            let seconds = NeuronKernels.time(model, timeSteps: timeSteps, width: width)
            say(String(format: "%@ T=%d × %d: forward %.1f M el/s, backward %.1f M el/s", model.rawValue, timeSteps, width,
                       count / seconds.forward / 1e6, count / seconds.backward / 1e6))
        }
    }
}
