import Foundation

/// Evaluation of a network over a whole split, sharded like training: each
/// process computes its chunks of every batch, and the totals are exact.
public enum Evaluation {
    public struct Result: Sendable {
        public var loss: Double, top1: Double, top5: Double
        public var samples: Int
        public var seconds: Double
        public var samplesPerSecond: Double { seconds > 0 ? Double(samples) / seconds : 0 }
    }

    /// Runs `network` in eval mode over `set` in file order; `progress` gets
    /// (batch, batches, running result) after every batch; `observer` sees
    /// every layer (the energy estimate's `ActivityMeter`); `precision` is fp32 or `-amp`'s bf16;
    /// `chunkSamples` is the reduction chunk (the loss partials depend on it).
    public static func run(_ network: Network, on set: any SampleSet, normalization: Normalization, batchSize: Int,
                           chunkSamples: Int = BatchLayout.defaultChunkSamples, timeSteps: Int,
                           loss: LossConfig = LossConfig(), shard: Shard = Shard(),
                           reducer: BatchReducer = LocalReducer(), observer: LayerObserver? = nil,
                           precision: Precision = .fp32,
                           progress: ((Int, Int, Result) -> Void)? = nil) -> Result {
        let start = Date()
        let source = BatchSource(set: set, batchSize: batchSize, normalization: normalization,
                                 augmentation: .none, shuffle: false, seed: 0)
        var lossSum = 0.0, hits = 0.0, top5 = 0.0, seen = 0
        var result = Result(loss: 0, top1: 0, top5: 0, samples: 0, seconds: 0)
        for item in ShardedBatches(source: source, epoch: 0, shard: shard, chunkSamples: chunkSamples) {
            let context = item.context(reducer: reducer, training: false, timeSteps: timeSteps, observer: observer,
                                       precision: precision)
            let step = TrainingStep.evaluate(network, input: item.input(timeSteps: timeSteps),
                                             targets: .labels(item.batch.labels), loss: loss, context: context)
            let local = Accuracy.hits(logits: step.logits, labels: item.batch.labels)
            // Hit counts are integers: the exact reducer adds them without rounding.
            let counts = reducer.sum([Float(local.top1), Float(local.top5)], chunks: 1, count: 2)
            let samples = item.layout.globalBatch
            lossSum += Double(step.loss) * Double(samples)
            hits += Double(counts[0]); top5 += Double(counts[1]); seen += samples
            result = Result(loss: lossSum / Double(seen), top1: hits / Double(seen), top5: top5 / Double(seen),
                            samples: seen, seconds: Date().timeIntervalSince(start))
            progress?(item.index + 1, source.batchCount, result)
        }
        return result
    }
}
