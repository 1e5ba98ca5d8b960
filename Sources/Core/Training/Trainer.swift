import Foundation

/// Figures of one finished epoch, as `metrics.jsonl` records them.
public struct EpochReport: Sendable, Codable, Equatable {
    public var epoch: Int
    public var lr: Double
    public var trainLoss: Double, trainAcc: Double
    public var testLoss: Double, testAcc: Double, testTop5: Double
    public var maxTestAcc: Double
    public var seconds: Double
    public var samplesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case epoch, lr, seconds
        case trainLoss = "train_loss", trainAcc = "train_acc", testLoss = "test_loss", testAcc = "test_acc"
        case testTop5 = "test_top5", maxTestAcc = "max_test_acc", samplesPerSecond = "samples_per_s"
    }
}

/// Progress of the batch loop, for progress bars and logs.
public struct BatchProgress: Sendable {
    public let phase: String
    public let epoch: Int, batch: Int, batches: Int
    /// Running means over the epoch so far (accuracies in percent).
    public let loss: Double, top1: Double, top5: Double
    public let elapsed: Double
}

/// The epoch loop of docs/training.md over static images or event frames: train on shuffled
/// batches, evaluate the whole test set, every epoch.
public final class Trainer {
    public let network: Network
    public let dataset: LoadedDataset
    public let options: TrainingOptions
    public let optimizer: Optimizer
    public let reducer: BatchReducer
    public let shard: Shard
    public private(set) var state: TrainingState
    public var onBatch: ((BatchProgress) -> Void)?
    /// Called after every optimiser step with the number of steps taken so far.
    public var onStep: ((Int) throws -> Void)?
    /// Called after each epoch with its report, before the next one starts.
    public var onEpoch: ((EpochReport, TrainingState) throws -> Void)?
    /// Sees every layer of every training forward (not the test passes),
    /// e.g. a `FiringMonitor`; it cannot change what a step computes.
    public var observer: LayerObserver?
    /// Called when a step with non-finite values is skipped (`onNonFinite` `.skip`).
    public var onSkippedStep: ((String) -> Void)?
    /// Called when `--max-steps` stops a run in the middle of an epoch, with
    /// the state to resume from.
    public var onInterrupted: ((TrainingState) throws -> Void)?

    public init(network: Network, dataset: LoadedDataset, options: TrainingOptions, optimizer: Optimizer,
                reducer: BatchReducer = LocalReducer(), shard: Shard = Shard(), state: TrainingState) {
        self.network = network; self.dataset = dataset; self.options = options; self.optimizer = optimizer
        self.reducer = reducer; self.shard = shard; self.state = state
    }

    /// Whether `--max-steps` has been reached.
    public var stepLimitReached: Bool { options.maxSteps.map { state.globalStep >= $0 } ?? false }

    /// Asked before every step: true when this process wants the run to stop
    /// there (a signal arrived). The processes agree through the reducer, so
    /// all stop after the same step.
    public var stopRequested: (() -> Bool)?
    /// Whether the last `run()` ended because `stopRequested` said so.
    public private(set) var stoppedOnRequest = false

    /// Whether any process asked to stop (a collective: every process calls it
    /// before every step).
    private func agreedStop() -> Bool {
        guard let stopRequested else { return false }
        return reducer.sum([stopRequested() ? 1 : 0], chunks: 1, count: 1)[0] > 0
    }

    /// Runs the remaining epochs (from `state.epoch`).
    public func run() throws {
        while state.epoch < options.epochs && !stepLimitReached {
            guard let report = try runEpoch(state.epoch) else {
                try onInterrupted?(state)
                return
            }
            state.epoch += 1
            state.batchInEpoch = 0
            state.epochSums = [0, 0, 0, 0]
            state.maxTestAccuracy = report.maxTestAcc
            try onEpoch?(report, state)
        }
    }

    /// Sums integer-valued counts over the global batch (exact).
    private func globalSum(_ values: [Double]) -> [Double] {
        reducer.sum(values.map { Float($0) }, chunks: 1, count: values.count).map { Double($0) }
    }

    /// The epoch's running training figures (sums over the global batches so far).
    struct EpochSums {
        var loss: Double, hits: Double, top5: Double, seen: Double
        init(_ sums: [Double]) { loss = sums[0]; hits = sums[1]; top5 = sums[2]; seen = sums[3] }
        var array: [Double] { [loss, hits, top5, seen] }
    }

    /// The epoch's training batches on this process, from `state.batchInEpoch`.
    func trainingBatches(epoch: Int) throws -> ShardedBatches {
        let train = BatchSource(set: dataset.train, batchSize: options.batchSize, normalization: dataset.normalization,
                                augmentation: options.augment ? dataset.augmentation : .none,
                                shuffle: options.shuffle, seed: options.seed, dropLast: options.dropLastBatch)
        let first = state.batchInEpoch
        guard (0...train.batchCount).contains(first) else {
            throw TrainingError(description: "cannot continue epoch \(epoch) at batch \(first + 1): it has \(train.batchCount) batches")
        }
        return ShardedBatches(source: train, epoch: epoch, from: first, shard: shard, chunkSamples: options.chunkSamples,
                              mixing: options.augment ? options.mixing : nil, prefetch: true)
    }

    /// Trains the rest of epoch `epoch` and evaluates; nil when the step
    /// limit stops it before its last batch.
    func runEpoch(_ epoch: Int) throws -> EpochReport? {
        let start = Date()
        let lr = options.schedule.rate(base: options.learningRate, epoch: epoch)
        optimizer.learningRate = lr
        let batches = try trainingBatches(epoch: epoch)
        let batchCount = batches.source.batchCount
        var sums = EpochSums(state.epochSums)
        var iterator = batches.makeIterator()
        while iterator.position < batches.batches.count {
            if stepLimitReached || agreedStop() {
                stoppedOnRequest = !stepLimitReached
                state.batchInEpoch = batches.batches[iterator.position]
                state.epochSums = sums.array
                return nil
            }
            guard let item = iterator.next() else { break }
            guard let result = try trainStep(item, epoch: epoch) else { continue }
            let local = Accuracy.hits(logits: result.logits, labels: item.batch.labels)
            let counts = globalSum([Double(local.top1), Double(local.top5)])
            let n = Double(item.layout.globalBatch)
            sums.loss += Double(result.loss) * n; sums.hits += counts[0]; sums.top5 += counts[1]; sums.seen += n
            onBatch?(BatchProgress(phase: "train", epoch: epoch, batch: item.index + 1, batches: batchCount,
                                   loss: sums.loss / sums.seen, top1: 100 * sums.hits / sums.seen,
                                   top5: 100 * sums.top5 / sums.seen, elapsed: Date().timeIntervalSince(start)))
        }
        let trainSeconds = Date().timeIntervalSince(start)
        let test = evaluate(epoch: epoch, start: start)
        let seen = sums.seen
        return EpochReport(epoch: epoch, lr: Double(lr), trainLoss: seen > 0 ? sums.loss / seen : 0,
                           trainAcc: seen > 0 ? sums.hits / seen : 0, testLoss: test.loss, testAcc: test.top1,
                           testTop5: test.top5, maxTestAcc: max(state.maxTestAccuracy, test.top1),
                           seconds: Date().timeIntervalSince(start),
                           samplesPerSecond: trainSeconds > 0 ? seen / trainSeconds : 0)
    }

    /// One optimiser step on `item`; nil when it had non-finite values and
    /// was skipped (`onNonFinite` `.skip`), which does not count in the
    /// epoch's training figures.
    private func trainStep(_ item: ShardedBatch, epoch: Int) throws -> StepResult? {
        let context = item.context(reducer: reducer, training: true, timeSteps: options.timeSteps, seed: options.seed,
                                   step: state.globalStep, localBatchNorm: options.batchNorm == .local,
                                   observer: observer, precision: options.precision)
        let buffersBefore = options.onNonFinite == .skip ? network.buffers.values : []
        let result = TrainingStep.gradients(network, input: item.input(timeSteps: options.timeSteps),
                                            targets: item.batch.targets, loss: options.loss, context: context)
        // Totals are global (a NaN anywhere reaches every rank through the
        // exact reducer), so every rank takes the same branch.
        let problem = NonFinite.find(loss: result.loss, in: network)
        if let problem {
            let message = "step \(state.globalStep + 1) (epoch \(epoch), batch \(item.index + 1)): \(problem)"
            guard options.onNonFinite == .skip else { throw TrainingError(description: "non-finite values at " + message) }
            network.buffers.values = buffersBefore
            onSkippedStep?(message)
        } else {
            optimizer.step(parameters: &network.parameters.values, gradients: network.parameters.gradients)
        }
        if options.batchNorm == .local { reducer.shareFromFirstRank(&network.buffers.values) }
        state.globalStep += 1
        try onStep?(state.globalStep)
        return problem == nil ? result : nil
    }

    /// Loss, top-1 and top-5 (fractions) over the whole test set.
    public func evaluate(epoch: Int = 0, start: Date = Date()) -> (loss: Double, top1: Double, top5: Double) {
        let result = Evaluation.run(network, on: dataset.test, normalization: dataset.normalization,
                                    batchSize: options.batchSize, chunkSamples: options.chunkSamples,
                                    timeSteps: options.timeSteps, loss: options.loss, shard: shard, reducer: reducer,
                                    precision: options.precision) { batch, batches, running in
            self.onBatch?(BatchProgress(phase: "test", epoch: epoch, batch: batch, batches: batches,
                                        loss: running.loss, top1: 100 * running.top1, top5: 100 * running.top5,
                                        elapsed: Date().timeIntervalSince(start)))
        }
        return (result.loss, result.top1, result.top5)
    }
}

/// Finds the first NaN or infinity of a step.
public enum NonFinite {
    /// nil when the loss and every gradient are finite; otherwise which came
    /// first: the loss, or the first parameter (in network order) whose
    /// gradient is not finite.
    public static func find(loss: Float, in network: Network) -> String? {
        let store = network.parameters
        let badGradient = store.gradients.withUnsafeBufferPointer { g -> StoreEntry? in
            store.entries.first { entry in entry.range.contains { !g[$0].isFinite } }
        }
        switch (loss.isFinite, badGradient) {
        case (true, nil): return nil
        case (false, let entry?): return "loss \(loss); first non-finite gradient in \(entry.name)"
        case (false, nil): return "loss \(loss)"
        case (true, let entry?): return "first non-finite gradient in \(entry.name)"
        }
    }
}
