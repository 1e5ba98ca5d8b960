/// What clif-mpi's own forward gives on a few test images: the data a NIR
/// consumer is checked against (`tools/check_nir.py`).
public struct NIRReference {
    /// The normalised images, `[N, C, H, W]` (the input at every time step).
    public var images: Tensor
    public var labels: [Int]
    /// The module name of the last spiking layer, whose spikes are kept.
    public var lastNeuron: String
    /// Spikes of the last spiking layer, `[T, N, …]`.
    public var spikes: Tensor
    /// The per-step logits, `[T, N, classes]`.
    public var logits: Tensor

    /// Runs `network` in evaluation mode on the first `count` samples of `set`.
    public static func record(_ network: Network, set: any SampleSet, normalization: Normalization,
                              count: Int, timeSteps: Int) throws -> NIRReference {
        guard set.framesPerSample == nil else {
            throw NIRExportError(description: "the reference run takes static images; this dataset has event frames")
        }
        let source = BatchSource(set: set, batchSize: min(count, set.count), normalization: normalization,
                                 augmentation: .none, shuffle: false, seed: 0)
        let batch = source.prepare(source.indices(of: 0, in: source.order(epoch: 0)), epoch: 0)
        return try record(network, images: batch.images, labels: batch.labels, timeSteps: timeSteps)
    }

    /// Runs `network` in evaluation mode on `images` [N, C, H, W], the input at every step.
    public static func record(_ network: Network, images: Tensor, labels: [Int], timeSteps: Int) throws -> NIRReference {
        guard let sequential = network as? SequentialNetwork else {
            throw NIRExportError(description: "\(type(of: network)) is not a layer sequence")
        }
        precondition(images.rank == 4 && images.shape[0] == labels.count,
                     "NIRReference: \(labels.count) labels for images \(images.shape)")
        let layout = Shard().layout(batch: labels.count, chunkSize: BatchLayout.defaultChunkSamples)
        let context = StepContext(layout: layout, reducer: LocalReducer(), training: false, timeSteps: timeSteps,
                                  staticInput: true)
        var x = images.repeatedOverTime(timeSteps)
        var spikes: Tensor?
        var last: SpikingNeuron?
        for layer in sequential.body.layers {
            x = layer.forward(x, context)
            if let neuron = layer as? SpikingNeuron { spikes = x; last = neuron }
        }
        guard let spikes, let last, let name = network.neurons.first(where: { $0.layer === last })?.name else {
            throw NIRExportError(description: "the network has no top-level spiking layer before its classifier")
        }
        return NIRReference(images: images, labels: labels, lastNeuron: name, spikes: spikes, logits: x)
    }

    /// Writes the reference as HDF5 datasets `images`, `labels`, `spikes`, `logits`, `last_neuron`.
    public func write(to path: String) throws {
        let file = try HDF5Writer(path: path)
        try file.floats("images", images.data, shape: images.shape)
        try file.integers("labels", labels, shape: [labels.count])
        try file.floats("spikes", spikes.data, shape: spikes.shape)
        try file.floats("logits", logits.data, shape: logits.shape)
        try file.strings("last_neuron", [lastNeuron], shape: [])
        try file.close()
    }
}
