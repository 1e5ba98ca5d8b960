// Legend: T time steps, n local samples; a row is one (t, sample) pair.

/// Measures, while a network evaluates (the step's `LayerObserver`), how
/// active the input of every convolution and linear layer is and how often
/// every spiking neuron layer fires — the rates the energy estimate needs.
///
/// Sums are kept per row in 64-bit fixed point (`scale` units per 1.0): a
/// row's sum is a function of that sample alone, and integer sums do not
/// depend on their order, so totals added across processes are the same
/// for any sharding. Inputs fed by average pooling of spikes count as the
/// pooled spike counts (the mean of a pooled input equals the mean of the
/// spikes pooled).
public final class ActivityMeter: LayerObserver {
    /// Fixed-point units per 1.0 (2^20: exact for pooled spikes, and room
    /// for 10^4 samples × T × 10^6 values without overflow).
    public static let scale = 1 << 20

    /// What one layer saw, per sample.
    public struct Record: Sendable {
        /// Position of the layer's first forward among all recorded layers.
        public var order: Int
        /// Per-sample input shape (without T and N).
        public var inputShape: [Int]
        /// Per-sample output shape.
        public var outputShape: [Int]
        /// Sum of the input values (synapses) or spikes (neurons), in `scale` units.
        public var fixedSum: Int64
        /// The network input (analog, not spikes): its rate is 1 by convention.
        public var analog: Bool
    }

    public private(set) var records: [ObjectIdentifier: Record] = [:]
    private var nextOrder = 0
    private let neuronLayers: Set<ObjectIdentifier>
    private let synapticLayers: [ObjectIdentifier: SynapticLayer]

    /// A meter for the layers of `network`.
    public init(_ network: Network) {
        neuronLayers = Set(network.neurons.map { ObjectIdentifier($0.layer) })
        synapticLayers = Dictionary(network.synapses.map { (ObjectIdentifier($0.layer), $0.layer) }) { first, _ in first }
    }

    /// Records the input of a synaptic layer, or the spikes of a neuron layer.
    public func observe(_ layer: Layer, input: Tensor, output: Tensor, _ context: StepContext) {
        let key = ObjectIdentifier(layer)
        if let synapse = synapticLayers[key] {
            add(key, values: input, outputShape: Array(output.shape.dropFirst(2)), analog: synapse.readsNetworkInput)
        } else if neuronLayers.contains(key) {
            add(key, values: output, outputShape: Array(output.shape.dropFirst(2)), analog: false)
        }
    }

    private func add(_ key: ObjectIdentifier, values: Tensor, outputShape: [Int], analog: Bool) {
        var record = records[key] ?? Record(order: nextOrder, inputShape: Array(values.shape.dropFirst(2)),
                                            outputShape: outputShape, fixedSum: 0, analog: analog)
        if records[key] == nil { nextOrder += 1 }
        if !analog { record.fixedSum += Self.fixedRowSums(values) }
        records[key] = record
    }

    /// Σ over rows of round(Σ row · scale), each row summed in Double.
    static func fixedRowSums(_ x: Tensor) -> Int64 {
        guard x.rank >= 2, x.count > 0 else { return 0 }
        let rows = x.shape[0] * x.shape[1], width = x.count / rows
        var total: Int64 = 0
        x.withPointer { p in
            for r in 0..<rows {
                var s = 0.0
                for i in 0..<width { s += Double(p[r * width + i]) }
                total += Int64((s * Double(scale)).rounded())
            }
        }
        return total
    }

    /// The fixed sums of `network`'s synaptic layers, then of its neuron
    /// layers, in network order (zero for a layer that never ran): the
    /// numbers to add across processes before `measuredLayers`.
    public func fixedSums(_ network: Network) -> [Int64] {
        network.synapses.map { records[ObjectIdentifier($0.layer)]?.fixedSum ?? 0 }
            + network.neurons.map { records[ObjectIdentifier($0.layer)]?.fixedSum ?? 0 }
    }

    /// Firing rates per neuron layer from the (summed) `totals` of
    /// `fixedSums` over `samples` samples of `timeSteps` steps.
    public func neuronRates(_ network: Network, totals: [Int64], samples: Int, timeSteps: Int) -> [(name: String, rate: Double)] {
        let offset = network.synapses.count
        return network.neurons.enumerated().map { i, neuron in
            let size = records[ObjectIdentifier(neuron.layer)].map { Double($0.outputShape.reduce(1, *)) } ?? 0
            return (neuron.name, Self.rate(totals[offset + i], values: size, samples: samples, timeSteps: timeSteps))
        }
    }

    /// The synaptic layers of `network` as the energy model sees them, with
    /// their input rate (1 for the analog network input) and output rate:
    /// the firing rate of the first neuron layer that runs after the layer
    /// (the neurons it drives; 0 for the classifier). `totals` as in `neuronRates`.
    public func measuredLayers(_ network: Network, totals: [Int64], samples: Int, timeSteps: Int) -> [MeasuredLayer] {
        precondition(totals.count == network.synapses.count + network.neurons.count,
                     "ActivityMeter: \(totals.count) totals for \(network.synapses.count) synapses and \(network.neurons.count) neurons")
        let neurons = neuronRates(network, totals: totals, samples: samples, timeSteps: timeSteps)
        let neuronOrders = network.neurons.map { records[ObjectIdentifier($0.layer)]?.order ?? Int.max }
        return network.synapses.enumerated().compactMap { i, synapse in
            guard let record = records[ObjectIdentifier(synapse.layer)],
                  let shape = synapse.layer.synapticShape(input: record.inputShape, output: record.outputShape)
            else { return nil }
            let layer = EnergyModel.Layer(name: synapse.name, shape: shape, parameterCount: synapse.layer.parameterCount)
            let inputRate = record.analog ? 1 : Self.rate(totals[i], values: layer.inputCount, samples: samples, timeSteps: timeSteps)
            let driven = neuronOrders.enumerated().filter { $0.element > record.order }.min { $0.element < $1.element }
            return MeasuredLayer(layer: layer, analogInput: record.analog, inputRate: inputRate,
                                 outputRate: driven.map { neurons[$0.offset].rate } ?? 0,
                                 drivenNeuron: driven.map { neurons[$0.offset].name })
        }
    }

    static func rate(_ fixed: Int64, values: Double, samples: Int, timeSteps: Int) -> Double {
        let denominator = values * Double(samples) * Double(timeSteps)
        return denominator > 0 ? Double(fixed) / Double(scale) / denominator : 0
    }
}

/// A synaptic layer with its measured rates.
public struct MeasuredLayer: Sendable, Equatable {
    public var layer: EnergyModel.Layer
    /// The layer reads the (analog) network input; `inputRate` is then 1.
    public var analogInput: Bool
    /// Spikes per input value and time step.
    public var inputRate: Double
    /// Firing rate of `drivenNeuron`, or 0.
    public var outputRate: Double
    /// The first neuron layer after this layer, nil for the classifier.
    public var drivenNeuron: String?
}
