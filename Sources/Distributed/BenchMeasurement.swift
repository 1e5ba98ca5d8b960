import Core
import Foundation

/// What `bench` measures: training steps (or evaluation passes) of a model on
/// synthetic or real data, sharded over the session's ranks as in training,
/// after untimed warm-up steps. Rank 0 gets the figures as a `BenchReport`.
public enum BenchMeasurement {
    public struct Setup {
        public var model: String
        public var activation: Activation
        /// Time steps (1 for ReLU), global batch size, reduction chunk size.
        public var timeSteps: Int, batchSize: Int, chunkSamples: Int
        /// Timed steps, and untimed ones first.
        public var steps: Int, warmup: Int
        /// Evaluation forward passes instead of training steps.
        public var inference: Bool
        public var precision: Precision
        /// A dataset's train split, or synthetic data of `input` `[C, H, W]` and `classes`.
        public var dataset: String?
        public var dataDirectory: URL
        public var input: (channels: Int, height: Int, width: Int)
        public var classes: Int

        public init(model: String, activation: Activation, timeSteps: Int, batchSize: Int, chunkSamples: Int,
                    steps: Int, warmup: Int, inference: Bool, precision: Precision, dataset: String?,
                    dataDirectory: URL, input: (channels: Int, height: Int, width: Int), classes: Int) {
            self.model = model; self.activation = activation; self.timeSteps = timeSteps
            self.batchSize = batchSize; self.chunkSamples = chunkSamples; self.steps = steps; self.warmup = warmup
            self.inference = inference; self.precision = precision; self.dataset = dataset
            self.dataDirectory = dataDirectory; self.input = input; self.classes = classes
        }
    }

    /// Runs the steps on every rank (collective); `note` hears rank 0's notes
    /// (idle workers) before the first step. Returns the report on rank 0, nil elsewhere.
    public static func run(_ setup: Setup, session: Session, note: (String) -> Void) throws -> BenchReport? {
        let data = try load(setup)
        let network = try ModelFactory.make(ModelSpec(name: setup.model, inChannels: data.channels, classes: data.classes,
                                                      height: data.height, width: data.width,
                                                      activation: setup.activation))
        if session.isLeader, let line = BatchLayout.idleWorkersNote(batchSize: setup.batchSize, chunkSamples: setup.chunkSamples,
                                                                    ranks: session.size, threads: Parallel.workers) {
            note(line)
        }
        let reducer = session.makeReducer()
        let sgemmPeak = Gemm.measuredPeak(workers: Parallel.workers)
        // Counts the last step's spikes (no histograms).
        let firing = FiringMonitor(network, histogramLayers: [])
        let timing = try timeSteps(setup, network: network, data: data, session: session, reducer: reducer, firing: firing)
        Profiler.enabled = false
        let busy = RankBusy(samples: timing.localSamples, cpuSeconds: processCPUSeconds() - timing.cpuStart,
                            computingSeconds: timing.seconds - reducer.communicationSeconds,
                            waitingSeconds: reducer.communicationSeconds).gathered(session.communicator)
        guard session.isLeader else { return nil }
        return BenchReport(setup: setup, data: data, ranks: session.size, timing: timing, reducer: reducer,
                           sgemmPeak: sgemmPeak, busy: busy, neurons: neuronActivity(network, firing))
    }

    /// The train split of `setup.dataset`, or synthetic data with a batch per step.
    static func load(_ setup: Setup) throws -> LoadedDataset {
        if let dataset = setup.dataset {
            return try DatasetCatalog.load(dataset, dataDirectory: setup.dataDirectory, frames: setup.timeSteps)
        }
        let synthetic = DatasetCatalog.SyntheticShape(channels: setup.input.channels, height: setup.input.height,
                                                      width: setup.input.width, classes: setup.classes,
                                                      train: setup.batchSize * (setup.steps + setup.warmup),
                                                      test: setup.batchSize)
        return try DatasetCatalog.load("synthetic", dataDirectory: URL(fileURLWithPath: "."), synthetic: synthetic)
    }

    /// The timed steps' wall time, samples (global and local) and the CPU time at their start.
    struct Timing {
        var seconds = 0.0, samples = 0, localSamples = 0, cpuStart = 0.0
    }

    /// Runs the warm-up and timed steps over the train split in file order
    /// (cycling through it), resetting the profiler and the reducer's meters
    /// after a barrier at the first timed step.
    static func timeSteps(_ setup: Setup, network: Network, data: LoadedDataset, session: Session,
                          reducer: MeteredReducer, firing: FiringMonitor) throws -> Timing {
        var options = TrainingOptions()
        options.timeSteps = setup.timeSteps
        options.batchSize = setup.batchSize
        options.chunkSamples = setup.chunkSamples
        let optimizer = options.makeOptimizer()
        let source = BatchSource(set: data.train, batchSize: setup.batchSize, normalization: data.normalization,
                                 augmentation: .none, shuffle: false, seed: 1)
        let total = setup.warmup + setup.steps
        let batches = ShardedBatches(source: source, epoch: 0, batches: (0..<total).map { $0 % source.batchCount },
                                     shard: session.shard, chunkSamples: setup.chunkSamples)
        var timing = Timing()
        for item in batches {
            let step = item.position
            let context = item.context(reducer: reducer, training: !setup.inference, timeSteps: setup.timeSteps,
                                       step: step, observer: step == total - 1 ? firing : nil,
                                       precision: setup.precision)
            let input = item.input(timeSteps: setup.timeSteps)
            if step == setup.warmup {
                session.communicator.barrier()
                Profiler.reset()
                Profiler.enabled = true
                reducer.resetTimer()
                reducer.resetTraffic()
                timing.cpuStart = processCPUSeconds()
            }
            let start = Date()
            let targets = Targets.labels(item.batch.labels)
            if setup.inference {
                _ = TrainingStep.evaluate(network, input: input, targets: targets, loss: options.loss, context: context)
            } else {
                _ = TrainingStep.train(network, optimizer: optimizer, input: input, targets: targets,
                                       loss: options.loss, context: context)
            }
            if step >= setup.warmup {
                timing.seconds += Date().timeIntervalSince(start)
                timing.samples += item.layout.globalBatch
                timing.localSamples += item.layout.localBatch
            }
        }
        return timing
    }

    /// Per neuron layer: its firing rate over the observed step and its open surrogate windows.
    static func neuronActivity(_ network: Network, _ firing: FiringMonitor) -> [BenchReport.NeuronActivity] {
        zip(network.neurons, firing.summary().firingRates).map { neuron, rate in
            let window = neuron.layer.openWindow
            return BenchReport.NeuronActivity(name: neuron.name, firingRate: rate.rate,
                                              openElements: window?.elementFraction, openPixels: window?.pixelFraction)
        }
    }
}
