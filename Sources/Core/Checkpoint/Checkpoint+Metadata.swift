import Foundation

/// Reading the header metadata of a checkpoint: the training state and the
/// optimiser's scalar state (the inverse of what `Checkpoint.encode` writes).
extension Checkpoint {
    /// The training state the metadata records; nil when it records none
    /// (a file of weights only: no `format`, `epoch`, `global_step` or
    /// `max_test_acc`). `file` names the checkpoint in errors.
    ///
    /// The training state steers a resumed run: a value no run can have
    /// written is refused here, naming the field, instead of trapping later.
    static func trainingState(in metadata: [String: String], file: String) throws -> TrainingState? {
        guard metadata["format"] == format,
              let epoch = metadata["epoch"].flatMap(Int.init),
              let step = metadata["global_step"].flatMap(Int.init),
              let best = metadata["max_test_acc"].flatMap(Double.init)
        else { return nil }
        func refuse(_ field: String, _ value: Any, _ expected: String) -> CheckpointError {
            CheckpointError(description: "\(file): metadata \(field) is \"\(value)\", expected \(expected) (a damaged or hand-edited checkpoint)")
        }
        guard epoch >= 0 else { throw refuse("epoch", epoch, "a count of epochs, 0 or more") }
        guard step >= 0 else { throw refuse("global_step", step, "a count of steps, 0 or more") }
        guard best.isFinite, (0...1).contains(best) else { throw refuse("max_test_acc", best, "a fraction in [0, 1]") }
        var state = TrainingState(epoch: epoch, globalStep: step, maxTestAccuracy: best,
                                  arguments: try RunArguments.recorded(in: metadata, file: file),
                                  model: metadata["model"] ?? "")
        if let text = metadata["batch_in_epoch"] {
            guard let batch = Int(text), batch >= 0 else { throw refuse("batch_in_epoch", text, "a batch index, 0 or more") }
            state.batchInEpoch = batch
        }
        let sums = (metadata["epoch_sums"] ?? "").split(separator: ",").compactMap { Double($0) }
        if sums.count == 4 {
            guard sums.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw refuse("epoch_sums", metadata["epoch_sums"] ?? "", "four finite sums, 0 or more")
            }
            state.epochSums = sums
        }
        for (field, keyPath) in [("chunk_samples", \TrainingState.chunkSamples), ("batch_size", \TrainingState.batchSize)] {
            guard let text = metadata[field] else { continue }
            guard let value = Int(text), value > 0 else { throw refuse(field, text, "a positive number of samples") }
            state[keyPath: keyPath] = value
        }
        return state
    }

    /// The optimiser state held as scalars (`optimizer_scalars`:
    /// `name=v,v,…;name=…`, e.g. AdamW's `step`); items not of that form are skipped.
    static func optimizerScalars(in metadata: [String: String]) -> [String: [Float]] {
        var state: [String: [Float]] = [:]
        for item in (metadata["optimizer_scalars"] ?? "").split(separator: ";") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            state[String(parts[0])] = parts[1].split(separator: ",").compactMap { Float($0) }
        }
        return state
    }
}
