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
        let order = source.order(epoch: 0)
        var lossSum = 0.0, hits = 0.0, top5 = 0.0, seen = 0
        var result = Result(loss: 0, top1: 0, top5: 0, samples: 0, seconds: 0)
        for i in 0..<source.batchCount {
            let indices = source.indices(of: i, in: order)
            let layout = shard.layout(batch: indices.count, chunkSize: chunkSamples)
            let batch = source.prepare(indices.dropFirst(layout.globalOffset).prefix(layout.localBatch), epoch: 0)
            let context = StepContext(layout: layout, reducer: reducer, training: false, timeSteps: timeSteps,
                                      staticInput: !batch.perStep, observer: observer, precision: precision)
            let step = TrainingStep.evaluate(network, input: batch.networkInput(timeSteps: timeSteps),
                                             targets: .labels(batch.labels), loss: loss, context: context)
            let local = Accuracy.hits(logits: step.logits, labels: batch.labels)
            // Hit counts are integers: the exact reducer adds them without rounding.
            let counts = reducer.sum([Float(local.top1), Float(local.top5)], chunks: 1, count: 2)
            lossSum += Double(step.loss) * Double(indices.count)
            hits += Double(counts[0]); top5 += Double(counts[1]); seen += indices.count
            result = Result(loss: lossSum / Double(seen), top1: hits / Double(seen), top5: top5 / Double(seen),
                            samples: seen, seconds: Date().timeIntervalSince(start))
            progress?(i + 1, source.batchCount, result)
        }
        return result
    }
}
