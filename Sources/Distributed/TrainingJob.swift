import Core
import Foundation

/// A training run on a session, from its data to its last checkpoint: rank 0
/// loads the dataset first (building a missing frame cache the other ranks
/// then read), every rank builds the model; `restore` resumes or loads
/// pre-trained weights and checks that the ranks start alike; `train` runs
/// the epochs with the checks, logs and checkpoints of `TrainingJob+Epochs`.
public final class TrainingJob {
    public struct Setup {
        public var dataset: String
        public var dataDirectory: URL
        public var split: FrameSplit
        /// The dataset's CutMix/Mixup recipe augmentation (`-cutupmix_auto`).
        public var cutupmixAuto: Bool
        public var model: String
        public var activation: Activation
        public var dropRate: Float
        /// The run's options; `chunkSamples` is resolved by `restore`.
        public var options: TrainingOptions
        /// The chunk size asked for (nil: the default, or a resumed run's).
        public var chunkSamples: Int?
        /// The arguments checkpoints record.
        public var arguments: RunArguments
        /// Checkpoints to continue from, or to take the weights of.
        public var resume: String?, preTrain: String?
        /// Whether to write `checkpoint_0` before the first step.
        public var saveInitial: Bool
        /// Steps between two comparisons of the ranks' parameters.
        public var checkEvery: Int
        public var checkpoints: CheckpointPolicy

        public init(dataset: String, dataDirectory: URL, split: FrameSplit, cutupmixAuto: Bool, model: String,
                    activation: Activation, dropRate: Float, options: TrainingOptions, chunkSamples: Int?,
                    arguments: RunArguments, resume: String?, preTrain: String?, saveInitial: Bool, checkEvery: Int,
                    checkpoints: CheckpointPolicy) {
            self.dataset = dataset; self.dataDirectory = dataDirectory; self.split = split
            self.cutupmixAuto = cutupmixAuto; self.model = model; self.activation = activation
            self.dropRate = dropRate; self.options = options; self.chunkSamples = chunkSamples
            self.arguments = arguments; self.resume = resume; self.preTrain = preTrain
            self.saveInitial = saveInitial; self.checkEvery = checkEvery; self.checkpoints = checkpoints
        }
    }

    public let session: Session
    public let setup: Setup
    public let data: LoadedDataset
    public let network: Network
    public let optimizer: Optimizer
    public private(set) var options: TrainingOptions
    public private(set) var state: TrainingState

    /// Loads the data (rank 0 first) and builds the model and optimiser.
    /// `datasetNote` hears rank 0's notes of the dataset reader. Throws the
    /// reader's `DataError` and the factory's `ModelError` as they are.
    public init(_ setup: Setup, session: Session, datasetNote: @escaping (String) -> Void) throws {
        self.session = session
        self.setup = setup
        data = try Self.loadData(setup, session: session, note: datasetNote)
        network = try ModelFactory.make(ModelSpec(name: setup.model, inChannels: data.channels, classes: data.classes,
                                                  height: data.height, width: data.width, activation: setup.activation,
                                                  dropout: setup.dropRate, seed: setup.options.seed))
        options = setup.options
        optimizer = options.makeOptimizer()
        state = TrainingState(epoch: 0, globalStep: 0, maxTestAccuracy: 0, arguments: setup.arguments, model: setup.model)
    }

    /// Rank 0 loads first, so it alone builds a missing event-frame cache
    /// that the other ranks (on the same file system) then read. (A rank that
    /// fails aborts the job, so none waits forever.)
    static func loadData(_ setup: Setup, session: Session, note: @escaping (String) -> Void) throws -> LoadedDataset {
        let leader = session.isLeader
        if !leader { session.communicator.barrier() }
        var data = try DatasetCatalog.load(setup.dataset, dataDirectory: setup.dataDirectory,
                                           frames: setup.options.timeSteps, split: setup.split,
                                           note: { if leader { note($0) } })
        if leader { session.communicator.barrier() }
        if setup.cutupmixAuto, let recipe = CutupmixAuto.recipe(for: data.name) {
            data = LoadedDataset(name: data.name, train: data.train, test: data.test, normalization: data.normalization,
                                 augmentation: recipe.augmentation)
        }
        return data
    }

    /// The size of one checkpoint of this model and optimiser, for the free-space check.
    public var checkpointBytes: Int {
        Checkpoint.estimatedBytes(network: network, optimizerBuffers: optimizer is AdamW ? 2 : 1)
    }

    /// Resumes from `setup.resume` or loads `setup.preTrain`'s weights,
    /// resolves the chunk size, checks that every rank starts from rank 0's
    /// parameters and writes `checkpoint_0` when asked. `note` hears rank 0's
    /// lines (where a run starts, settings that changed, idle workers).
    public func restore(note: (String) -> Void) throws {
        func say(_ line: String) { if session.isLeader { note(line) } }
        var resumed: TrainingState?
        if let resume = setup.resume {
            resumed = try resumeState(resume, note: say)
        }
        let batchSize = options.batchSize
        state.batchSize = batchSize
        let chunking = BatchLayout.resolveChunkSamples(requested: setup.chunkSamples, batchSize: batchSize, resumed: resumed)
        options.chunkSamples = chunking.samples
        state.chunkSamples = chunking.samples
        if let line = chunking.note { say(line) }
        if let line = BatchLayout.idleWorkersNote(batchSize: batchSize, chunkSamples: chunking.samples,
                                                  ranks: session.size, threads: Parallel.workers) {
            say(line)
        }
        if let preTrain = setup.preTrain {
            let loaded = try session.loadCheckpoint(preTrain, into: network, optimizer: nil)
            say("use pre-trained model, max test acc: \(loaded?.maxTestAccuracy ?? 0)")
        }
        let divergent = ParameterHash.divergentRanks(network, session.communicator)
        guard divergent.isEmpty else {
            throw JobError("ranks \(divergent) start from other parameters than rank 0 (different build, data or checkpoint?)")
        }
        if session.isLeader && setup.saveInitial {
            try setup.checkpoints.saveInitial(network: network, state: state)
        }
    }

    /// Loads the checkpoint `path` with its optimiser state and takes its
    /// training state, positioned for this run's batch size.
    func resumeState(_ path: String, note say: (String) -> Void) throws -> TrainingState {
        guard let loaded = try session.loadCheckpoint(path, into: network, optimizer: optimizer) else {
            throw JobError("-resume \(path): the file holds weights but no training state (epoch, step); use -pre_train to start from its weights")
        }
        say("start epoch: \(loaded.epoch)\(loaded.batchInEpoch > 0 ? " at batch \(loaded.batchInEpoch)" : ""), max test acc: \(loaded.maxTestAccuracy)")
        // The position is read against the checkpoint's own arguments (its -b) before they are replaced.
        state = loaded
        let batchSize = options.batchSize
        let batches = BatchSource(set: data.train, batchSize: batchSize, normalization: data.normalization,
                                  augmentation: .none, shuffle: false, seed: 0, dropLast: options.dropLastBatch).batchCount
        do {
            if let line = try state.continueEpoch(batchSize: batchSize, trainingSamples: data.train.count,
                                                  batches: batches, checkpoint: path) {
                say(line)
            }
            if let line = try setup.arguments.resumeNote(continuing: loaded.arguments, checkpoint: path) {
                say(line)
            }
        } catch let error as CheckpointError {
            throw JobError("-resume " + error.description)
        }
        state.arguments = setup.arguments
        return loaded
    }
}
