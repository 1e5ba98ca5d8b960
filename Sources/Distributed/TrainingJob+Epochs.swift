import Core
import Foundation

/// What a training run tells its caller (the lines rank 0 prints); every
/// closure but `stopRequested` runs on rank 0 alone.
public struct TrainingEvents {
    /// After every batch, training and test.
    public var batch: ((BatchProgress) -> Void)?
    /// Before other output at the end of an epoch's or a stopped run's batches.
    public var batchesEnded: () -> Void
    /// A step skipped for non-finite values (`--on-nan skip`), where.
    public var skippedStep: (String) -> Void
    /// An epoch's figures, after its logs and checkpoints are written.
    public var epoch: (EpochSummary) -> Void
    /// A run stopped before its end (`checkpoint_latest` written): where, and
    /// whether a stop request (not the step limit) ended it.
    public var stopped: (TrainingState, _ onRequest: Bool) -> Void
    /// Asked on every rank before every step: whether this process wants the
    /// run to stop there (the ranks agree, so all stop after the same step).
    public var stopRequested: (() -> Bool)?

    public init(batch: ((BatchProgress) -> Void)? = nil, batchesEnded: @escaping () -> Void = {},
                skippedStep: @escaping (String) -> Void = { _ in }, epoch: @escaping (EpochSummary) -> Void = { _ in },
                stopped: @escaping (TrainingState, Bool) -> Void = { _, _ in }, stopRequested: (() -> Bool)? = nil) {
        self.batch = batch; self.batchesEnded = batchesEnded; self.skippedStep = skippedStep
        self.epoch = epoch; self.stopped = stopped; self.stopRequested = stopRequested
    }
}

/// An epoch as rank 0 reports it.
public struct EpochSummary {
    public let report: EpochReport
    /// Seconds since training started.
    public let totalSeconds: Double
    /// The epoch's share of time in collectives on rank 0; nil on one process.
    public let communicationShare: Double?
}

extension EpochSummary {
    /// The line rank 0 prints for the epoch (the original's, plus clif-mpi's
    /// time, rate and, under mpirun, communication share).
    public var line: String {
        let r = report
        var line = "epoch=\(r.epoch), train_loss=\(r.trainLoss), train_acc=\(r.trainAcc), test_loss=\(r.testLoss), test_acc=\(r.testAcc), max_test_acc=\(r.maxTestAcc), total_time=\(String(format: "%.1f", totalSeconds)), samples_per_s=\(String(format: "%.1f", r.samplesPerSecond))"
        if let share = communicationShare { line += String(format: ", communication_share=%.3f", share) }
        return line
    }
}

extension TrainingEvents {
    /// The line rank 0 prints when a run stops before its end: why, and where it resumes.
    public static func stopLine(_ state: TrainingState, onRequest: Bool) -> String {
        let cause = onRequest ? "a stop signal" : "--max-steps"
        return "stopped by \(cause) after step \(state.globalStep), in epoch \(state.epoch) at batch \(state.batchInEpoch); checkpoint_latest resumes there"
    }
}

/// How a run ended: its last state, and whether a stop request ended it early.
public struct TrainingOutcome {
    public let state: TrainingState
    public let stoppedOnRequest: Bool
}

extension TrainingJob {
    /// Trains the remaining epochs (after `restore`). Every rank compares its
    /// parameters with rank 0's every `setup.checkEvery` steps; rank 0 writes
    /// metrics.jsonl and the TensorBoard events, and the checkpoints of
    /// `setup.checkpoints`, after every epoch and when the run stops early.
    public func train(_ events: TrainingEvents) throws -> TrainingOutcome {
        let leader = session.isLeader
        let reducer = session.makeReducer()
        let trainer = Trainer(network: network, dataset: data, options: options, optimizer: optimizer, reducer: reducer,
                              shard: session.shard, state: state)
        let firing = FiringMonitor(network)
        trainer.observer = firing
        trainer.onStep = stepCheck()
        trainer.onSkippedStep = { if leader { events.skippedStep($0) } }
        let logs = leader ? try RunLogs(folder: setup.checkpoints.folder) : nil
        if leader { trainer.onBatch = events.batch }
        let start = Date()
        trainer.onEpoch = { [self] report, state in
            let communication = reducer.communicationSeconds
            reducer.resetTimer()
            let activity = firingSummary(firing)
            guard let logs else { return }
            events.batchesEnded()
            try record(report, activity, in: logs, state: state)
            events.epoch(EpochSummary(report: report, totalSeconds: Date().timeIntervalSince(start),
                                      communicationShare: session.size > 1 ? communication / report.seconds : nil))
        }
        trainer.stopRequested = events.stopRequested
        trainer.onInterrupted = { [self, unowned trainer] state in
            guard leader else { return }
            events.batchesEnded()
            try setup.checkpoints.stopped(network: network, optimizer: optimizer, state: state)
            events.stopped(state, trainer.stoppedOnRequest)
        }
        try trainer.run()
        return TrainingOutcome(state: trainer.state, stoppedOnRequest: trainer.stoppedOnRequest)
    }

    /// After every step: the fault-injection hook, and every
    /// `setup.checkEvery` steps the ranks' parameters against rank 0's.
    func stepCheck() -> (Int) throws -> Void {
        let fault = FaultInjection.fromEnvironment()
        return { [self] step in
            if let fault, fault.rank == session.rank, fault.step == step {
                throw JobError("injected failure at step \(step) (CLIF_MPI_FAIL_AT)")
            }
            guard step % setup.checkEvery == 0 else { return }
            let divergent = ParameterHash.divergentRanks(network, session.communicator)
            guard divergent.isEmpty else {
                throw JobError("after step \(step) the parameters of ranks \(divergent) differ from rank 0's; stopping (the last checkpoint is intact)")
            }
        }
    }

    /// The epoch's firing figures over every rank's samples: every rank adds
    /// its counts (exact integer sums), then starts the next epoch's.
    func firingSummary(_ firing: FiringMonitor) -> FiringSummary {
        let communicator = session.communicator
        let activity = firing.summary(sum: { sums in
            guard !sums.isEmpty else { return }
            sums.withUnsafeMutableBufferPointer { communicator.allreduceSum($0.baseAddress!, count: $0.count) }
        }, maximum: { if !$0.isEmpty { communicator.allreduceMax(&$0) } })
        firing.reset()
        return activity
    }

    /// Rank 0 at the end of an epoch: its figures in the logs, then its checkpoints.
    func record(_ report: EpochReport, _ activity: FiringSummary, in logs: RunLogs, state: TrainingState) throws {
        do { try logs.record(report, activity) } catch {
            throw JobError("cannot record epoch \(report.epoch)'s figures in \(setup.checkpoints.folder.path) (metrics.jsonl, TensorBoard events): \(error.localizedDescription); the checkpoints of the previous epoch are kept")
        }
        try setup.checkpoints.epochEnded(report, network: network, optimizer: optimizer, state: state)
    }
}

/// A test hook: `CLIF_MPI_FAIL_AT=<rank>:<step>` makes that rank fail right
/// after that optimiser step, to exercise the job-wide failure path.
struct FaultInjection {
    let rank: Int, step: Int

    static func fromEnvironment() -> FaultInjection? {
        guard let value = ProcessInfo.processInfo.environment["CLIF_MPI_FAIL_AT"] else { return nil }
        let parts = value.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        return FaultInjection(rank: parts[0], step: parts[1])
    }
}
