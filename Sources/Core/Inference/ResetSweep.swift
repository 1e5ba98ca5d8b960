import Foundation

/// `infer`'s evaluation over settings: one pass over the test set per reset
/// of the evaluated neuron — soft (`nil`) or hard to a value — the paper's
/// conversion table when a CLIF-trained model runs with LIF neurons
/// (docs/conversion.md). Every pass is `Evaluation.run`, sharded with exact totals.
public struct ResetSweep {
    /// One row of the table: the reset evaluated and what the pass measured.
    public struct Row {
        /// nil: soft reset (and relu's only row).
        public var reset: Float?
        public var result: Evaluation.Result
    }

    /// The network's activation: its neuron's constants, or relu (one soft row: no membrane to reset).
    public let activation: Activation
    /// The resets to evaluate, in order; nil is the soft reset.
    public let resets: [Float?]

    public init(activation: Activation, resets: [Float?]) {
        self.activation = activation
        self.resets = activation == .relu ? [nil] : resets
    }

    /// Evaluates `network` once per reset, giving each row to `row` as soon
    /// as it is measured (the table prints while the sweep runs).
    public func run(_ network: Network, _ setup: EvaluationSetup, row: (Row) -> Void = { _ in }) -> [Row] {
        resets.map { (reset: Float?) -> Row in
            if case .spiking(var config) = activation {
                config.vReset = reset
                for (_, layer) in network.neurons { layer.config = config }
            }
            let result = Evaluation.run(network, on: setup.data.test, normalization: setup.data.normalization,
                                        batchSize: setup.batchSize, timeSteps: setup.timeSteps, loss: setup.loss,
                                        shard: setup.shard, reducer: setup.reducer, precision: setup.precision)
            let measured = Row(reset: reset, result: result)
            row(measured)
            return measured
        }
    }
}
