import Foundation

/// Which checkpoints a training run writes in its folder (rank 0 alone):
/// `checkpoint_0` with the initial weights when asked, `checkpoint_latest`
/// after every epoch and when a run stops early (resumable there), and
/// `checkpoint_max` after every epoch whose test accuracy reaches the best so far.
public struct CheckpointPolicy {
    public let folder: URL
    /// The optimiser's name as checkpoints record it (the original's `-opt` spelling).
    public let optimizerName: String

    public init(folder: URL, optimizerName: String) {
        self.folder = folder
        self.optimizerName = optimizerName
    }

    public func url(_ name: String) -> URL { folder.appendingPathComponent("checkpoint_\(name).safetensors") }

    /// Whether the epoch of `report` renews `checkpoint_max`: its test
    /// accuracy is the best so far (ties included, as the original's `>=`).
    public static func renewsMax(_ report: EpochReport) -> Bool { report.testAcc >= report.maxTestAcc }

    /// `checkpoint_0`: the weights before the first step, without optimiser state.
    public func saveInitial(network: Network, state: TrainingState) throws {
        try Checkpoint.save(network: network, optimizer: nil, optimizerName: optimizerName, state: state, to: url("0"))
    }

    /// After an epoch: `checkpoint_max` when it renews the best accuracy,
    /// then `checkpoint_latest` (the same bytes), each replaced atomically.
    public func epochEnded(_ report: EpochReport, network: Network, optimizer: Optimizer, state: TrainingState) throws {
        let data = Checkpoint.encode(network: network, optimizer: optimizer, optimizerName: optimizerName, state: state)
        if Self.renewsMax(report) { try Checkpoint.writeAtomically(data, to: url("max")) }
        try Checkpoint.writeAtomically(data, to: url("latest"))
    }

    /// A run stopped before the end of an epoch: `checkpoint_latest` resumes at `state`.
    public func stopped(network: Network, optimizer: Optimizer, state: TrainingState) throws {
        try Checkpoint.save(network: network, optimizer: optimizer, optimizerName: optimizerName, state: state,
                            to: url("latest"))
    }
}
