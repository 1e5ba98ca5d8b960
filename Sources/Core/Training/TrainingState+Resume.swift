import Foundation

extension TrainingState {
    /// The batch size the checkpoint was written with: recorded, or for
    /// checkpoints written before it was, read from the recorded arguments
    /// (`b`); nil when neither says.
    public var recordedBatchSize: Int? {
        batchSize ?? arguments["b"].flatMap { Int($0) }
    }

    /// Places a resumed run inside its epoch for this run's batch size and
    /// training split, and says how when it is not simply the next batch.
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
        guard batchInEpoch > 0 else { return nil }
        let previous = recordedBatchSize ?? batchSize
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
