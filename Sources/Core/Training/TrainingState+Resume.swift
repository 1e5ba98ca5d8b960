import Foundation

extension TrainingState {
    /// The batch size the checkpoint was written with: recorded, or for
    /// checkpoints written before it was, read from the recorded arguments
    /// (`b`); nil when neither says.
    public var recordedBatchSize: Int? {
        batchSize ?? arguments["b"].flatMap { Int($0) }
    }

    /// Places a resumed run inside its epoch for this run's batch size and
    /// training split, and says how when it is not simply the next batch
    /// (at an epoch boundary, only that the batch size changed).
    ///
    /// A run stopped mid-epoch has trained `batchInEpoch` full batches of
    /// its own batch size, i.e. the first `batchInEpoch · b_old` samples of
    /// the epoch's order. With the same batch size it continues at the next
    /// batch. With another one it continues at the batch of the new size
    /// that holds the first untrained sample, so the samples from that batch's
    /// start up to it are trained a second time (none when the position falls
    /// on a batch boundary). A position at or past the end of the split (a
    /// smaller dataset, or a damaged checkpoint) is refused.
    ///
    /// - Parameters:
    ///   - batchSize: this run's `-b`.
    ///   - trainingSamples: samples in this run's training split.
    ///   - batches: batches per epoch in this run (smaller than the split
    ///     implies when the incomplete last batch is dropped).
    ///   - checkpoint: the file's name, for messages.
    public mutating func continueEpoch(batchSize: Int, trainingSamples: Int, batches: Int,
                                       checkpoint: String) throws -> String? {
        let previous = recordedBatchSize ?? batchSize
        guard batchInEpoch > 0 else {
            return previous == batchSize ? nil
                : "-b \(batchSize) differs from the checkpoint's \(previous): epoch \(epoch) starts at its first sample, \(batches) batches at -b \(batchSize)"
        }
        let (done, overflow) = batchInEpoch.multipliedReportingOverflow(by: previous)
        guard !overflow, done < trainingSamples else {
            throw CheckpointError(description: "\(checkpoint): stopped after \(batchInEpoch) batches of \(previous) samples in epoch \(epoch), past the end of this run's \(trainingSamples) training samples (another dataset, or a damaged batch_in_epoch); start afresh or resume with the dataset the run used")
        }
        let batch = min(done / batchSize, batches)
        batchInEpoch = batch
        guard previous != batchSize else { return nil }
        let repeated = done - batch * batchSize
        return "-b \(batchSize) differs from the checkpoint's \(previous): epoch \(epoch) continues at sample \(done) of its order, batch \(batch + 1) of \(batches) at -b \(batchSize)"
            + (repeated > 0 ? " (its first \(repeated) samples were trained before the stop and are trained again)" : "")
    }
}

extension RunArguments {
    /// Arguments `-resume` does not compare: where the run's files are, its
    /// label, the file it resumes from, and `b` (`continueEpoch` places a
    /// different batch size in the epoch and says so).
    static let notCompared: Set<String> = ["resume", "pre_train", "out_dir", "data_dir", "name", "b", "j"]

    /// How a run with these arguments continues the run `recorded` describes
    /// (the checkpoint's), as a note naming every setting that differs; nil
    /// when none does. Weights, epoch and step always carry over and every
    /// differing setting takes this run's value; a different `-opt` starts
    /// the optimiser's state afresh. A different `-dataset` is refused: the
    /// checkpoint's position in the epoch belongs to its dataset (`-pre_train`
    /// starts from the weights alone).
    /// - Throws: `CheckpointError` naming `checkpoint` for another dataset.
    public func resumeNote(continuing recorded: RunArguments, checkpoint: String) throws -> String? {
        func same(_ a: String, _ b: String) -> Bool {
            if let x = Double(a), let y = Double(b) { return x == y }
            return a == b
        }
        var changes: [String] = []
        for entry in entries where !Self.notCompared.contains(entry.key) {
            guard let was = recorded[entry.key] else { continue }
            let now = self[entry.key] ?? "None"
            guard !same(now, was) else { continue }
            if entry.key == "dataset" {
                throw CheckpointError(description: "\(checkpoint): its run trained on -dataset \(was), this one asks for \(now); resume with -dataset \(was), or start from its weights with -pre_train")
            }
            changes.append("-\(entry.key) \(now) (the checkpoint's run: \(was)\(entry.key == "opt" ? "; the optimiser's state starts afresh" : ""))")
        }
        guard !changes.isEmpty else { return nil }
        return "-resume continues with this run's settings where they differ from the checkpoint's: " + changes.joined(separator: ", ")
    }
}
