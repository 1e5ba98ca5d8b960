// Legend: T time steps, N local samples, S values per sample of a neuron layer.

/// Watches training steps (the step's `LayerObserver`) and gathers, per
/// spiking neuron layer, what TensorBoard shows each epoch:
///
/// - the firing rate: spikes ÷ (samples · T · S) over every training sample,
///   counted on the worker threads, one integer count per reduction chunk;
/// - for CLIF layers the mean of the memory m over a sample set;
/// - for a few layers a `MembraneHistogram` of h − v_th over the sample set.
///
/// The sample set is the first sample of every training batch (position 0
/// of the global batch, which rank 0 holds), whose membrane is computed
/// again from the layer's input (`SpikingNeuron.potentials`): a bounded,
/// rank-independent cost of one sample per batch and layer. All counts and
/// sums are integers, so the figures summed over processes are the same for
/// any number of ranks and threads.
public final class FiringMonitor: LayerObserver {
    /// Histogram layers by default: the first, middle and last neuron layer.
    public static func defaultHistogramLayers(count: Int) -> [Int] {
        count == 0 ? [] : Array(Set([0, count / 2, count - 1])).sorted()
    }

    private let layers: [(name: String, layer: SpikingNeuron)]
    private let position: [ObjectIdentifier: Int]
    /// Indices into `layers` of the histogram layers.
    public let histogramLayers: [Int]
    private var spikes: [Int64], values: [Int64]
    private var memorySums: [Int64], memoryCounts: [Int64]
    private var histograms: [MembraneHistogram]

    /// - Parameters:
    ///   - network: the network whose neuron layers are watched.
    ///   - histogramLayers: indices into `network.neurons` (default: first, middle, last).
    public init(_ network: Network, histogramLayers: [Int]? = nil) {
        layers = network.neurons
        position = Dictionary(network.neurons.enumerated().map { (ObjectIdentifier($0.element.layer), $0.offset) }) { a, _ in a }
        let chosen = histogramLayers ?? Self.defaultHistogramLayers(count: network.neurons.count)
        precondition(chosen.allSatisfy { network.neurons.indices.contains($0) },
                     "FiringMonitor: histogram layers \(chosen) of \(network.neurons.count) neuron layers")
        self.histogramLayers = chosen
        spikes = []; values = []; memorySums = []; memoryCounts = []; histograms = []
        reset()
    }

    /// Starts a new epoch's counts.
    public func reset() {
        spikes = Array(repeating: 0, count: layers.count)
        values = spikes; memorySums = spikes; memoryCounts = spikes
        histograms = Array(repeating: MembraneHistogram(), count: histogramLayers.count)
    }

    public func observe(_ layer: Layer, input: Tensor, output: Tensor, _ context: StepContext) {
        guard let index = position[ObjectIdentifier(layer)], output.rank >= 2 else { return }
        spikes[index] += Self.countSpikes(output, chunks: context.chunks)
        values[index] += Int64(output.count)
        let neuron = layers[index].layer
        let histogram = histogramLayers.firstIndex(of: index)
        guard context.layout.globalOffset == 0, context.localBatch > 0,
              histogram != nil || neuron.config.model == .clif else { return }
        let (charged, memory) = neuron.potentials(of: input, sample: 0)
        if let histogram { histograms[histogram].add(charged, minus: neuron.config.vThreshold) }
        if let memory {
            memorySums[index] += MembraneHistogram.fixed(memory.reduce(0.0) { $0 + Double($1) })
            memoryCounts[index] += Int64(memory.count)
        }
    }

    /// Spikes in `[T, N, S]` (0 or 1 each): one exact count per chunk of samples, on the workers.
    static func countSpikes(_ spikes: Tensor, chunks: [Range<Int>]) -> Int64 {
        let t = spikes.shape[0], n = spikes.shape[1]
        let perSample = t * n == 0 ? 0 : spikes.count / (t * n)
        var partials = [Int64](repeating: 0, count: chunks.count)
        spikes.withPointer { s in
            partials.withUnsafeMutableBufferPointer { partial in
                Parallel.forEach(chunks.count) { c in
                    let columns = (chunks[c].lowerBound * perSample)..<(chunks[c].upperBound * perSample)
                    partial[c] = (0..<t).reduce(0) { count, step in
                        count + ones(s + step * n * perSample + columns.lowerBound, columns.count)
                    }
                }
            }
        }
        return partials.reduce(0, +)
    }

    /// The number of ones among `count` values that are each 0 or 1: SIMD
    /// lanes over blocks of 2²⁰ values (a lane's count stays exact in fp32).
    static func ones(_ values: UnsafePointer<Float>, _ count: Int) -> Int64 {
        let block = 1 << 20
        var total: Int64 = 0, start = 0
        while start < count {
            let end = min(start + block, count)
            var lanes = SIMD8<Float>(), i = start
            while i + 8 <= end {
                lanes += UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
                i += 8
            }
            var rest: Float = 0
            while i < end { rest += values[i]; i += 1 }
            total += Int64(lanes.sum() + rest)
            start = end
        }
        return total
    }

    /// The epoch's figures so far. `sum` adds integer arrays elementwise over
    /// all processes and `maximum` takes their elementwise maximum (both the
    /// identity on one process); every process must call this together.
    public func summary(sum: (inout [Int64]) -> Void = { _ in },
                        maximum: (inout [Int32]) -> Void = { _ in }) -> FiringSummary {
        var sums = spikes + values + memorySums + memoryCounts + histograms.flatMap(\.flatSums)
        var maxima = histograms.flatMap(\.flatMaxima)
        sum(&sums)
        maximum(&maxima)
        let n = layers.count
        func slice(_ k: Int) -> ArraySlice<Int64> { sums[(k * n)..<((k + 1) * n)] }
        let (spikeTotals, valueTotals) = (Array(slice(0)), Array(slice(1)))
        let (memoryTotals, memoryValues) = (Array(slice(2)), Array(slice(3)))
        var result = FiringSummary()
        for (i, (name, layer)) in layers.enumerated() {
            result.firingRates.append((name, valueTotals[i] > 0 ? Double(spikeTotals[i]) / Double(valueTotals[i]) : 0))
            if layer.config.model == .clif, memoryValues[i] > 0 {
                result.memoryMeans.append((name, Double(memoryTotals[i]) / MembraneHistogram.scale / Double(memoryValues[i])))
            }
        }
        let width = 3 + MembraneHistogram.limits.count
        for (k, index) in histogramLayers.enumerated() {
            let start = 4 * n + k * width
            let histogram = MembraneHistogram(sums: sums[start..<(start + width)], maxima: maxima[(2 * k)..<(2 * k + 2)])
            if histogram.count > 0 { result.membranes.append((layers[index].name, histogram)) }
        }
        return result
    }
}

/// An epoch's firing figures per neuron layer, in network order.
public struct FiringSummary {
    /// Spikes per neuron and time step, over every training sample.
    public var firingRates: [(layer: String, rate: Double)] = []
    /// CLIF layers: the mean of m over the sample set.
    public var memoryMeans: [(layer: String, mean: Double)] = []
    /// The histogram layers: h − v_th over the sample set.
    public var membranes: [(layer: String, histogram: MembraneHistogram)] = []
}
