import Foundation

/// The energy estimate's evaluation: firing rates measured on the test set,
/// for the trained neuron and for its LIF counterpart (the same weights run
/// with LIF neurons, rates measured again), each pass summed exactly over
/// every process.
public enum EnergyMeasurement {
    /// The firing rates of one evaluation pass, summed over every process.
    public struct Pass: Sendable {
        /// The neuron as the tables name it (`CLIF`, `LIF (hard 0.0)`).
        public let neuron: String
        public let top1: Double
        /// Firing rates entering and leaving every convolution / linear layer.
        public let layers: [MeasuredLayer]
        /// The firing rate of every neuron layer.
        public let neuronRates: [(name: String, rate: Double)]
    }

    /// The trained neuron's pass and the LIF counterpart's (the same pass
    /// when the trained neuron is already that LIF).
    public struct Result {
        public let trained: Pass
        /// The neuron whose energy the trained pass costs: CLIF, else LIF.
        public let trainedNeuron: EnergyModel.Neuron
        public let lif: Pass
    }

    /// Measures `network` with its neuron `base` and with LIF reset by
    /// `lifReset` (nil: soft); `sum` adds every process's counts in place
    /// (the identity on one process).
    public static func measure(_ network: Network, base: NeuronConfig, lifReset: Float?, _ setup: EvaluationSetup,
                               sum: (inout [Int64]) -> Void) -> Result {
        let own = pass(network, base, label: base.model.rawValue, setup, sum: sum)
        let costed: EnergyModel.Neuron = base.model == .clif ? .clif : .lif
        var lif = base
        lif.model = .lif
        lif.vReset = lifReset
        guard base.model != .lif || base.vReset != lif.vReset else {
            return Result(trained: own, trainedNeuron: costed, lif: own)
        }
        let label = "LIF" + (lif.vReset.map { " (hard \($0))" } ?? "")
        return Result(trained: own, trainedNeuron: costed, lif: pass(network, lif, label: label, setup, sum: sum))
    }

    /// One evaluation pass of `network` with every neuron layer set to `config`.
    static func pass(_ network: Network, _ config: NeuronConfig, label: String, _ setup: EvaluationSetup,
                     sum: (inout [Int64]) -> Void) -> Pass {
        for (_, layer) in network.neurons { layer.config = config }
        let meter = ActivityMeter(network)
        let result = Evaluation.run(network, on: setup.data.test, normalization: setup.data.normalization,
                                    batchSize: setup.batchSize, timeSteps: setup.timeSteps, loss: setup.loss,
                                    shard: setup.shard, reducer: setup.reducer, observer: meter, precision: setup.precision)
        var totals = meter.fixedSums(network)
        sum(&totals)
        let samples = setup.data.test.count, steps = setup.timeSteps
        return Pass(neuron: label, top1: result.top1,
                    layers: meter.measuredLayers(network, totals: totals, samples: samples, timeSteps: steps),
                    neuronRates: meter.neuronRates(network, totals: totals, samples: samples, timeSteps: steps))
    }
}
