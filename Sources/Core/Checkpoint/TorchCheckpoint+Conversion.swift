import Foundation

/// `clif-mpi convert`: a checkpoint in one format written in the other.
extension TorchCheckpoint {
    /// Converts the checkpoint `data` (the file `name`): a `.pth` becomes a
    /// clif-mpi checkpoint recording `model`, a clif-mpi checkpoint the
    /// original's `.pth` with its optimiser settings and scheduler; the
    /// result is written atomically to `output`. Returns the line to print.
    /// - Throws: `CheckpointError` or `SafeTensorsError` naming `name`.
    public static func convert(_ data: Data, name: String, to output: String, model: String) throws -> String {
        let url = URL(fileURLWithPath: output)
        if isTorchFile(data) {
            let contents = try Self.read(data, name: name)
            try Checkpoint.writeAtomically(safetensorsData(contents, model: model), to: url)
            return conversionLine(contents, from: name, to: output)
        }
        let file = try SafeTensorsFile(data: data, name: name)
        let (hyperparameters, scheduler) = try training(of: file, name: name)
        let contents = Self.contents(ofSafeTensors: file, hyperparameters: hyperparameters)
        try Checkpoint.writeAtomically(try pthData(contents, scheduler: scheduler), to: url)
        return conversionLine(contents, from: name, to: output, epochNote: " (the original's numbering)") + " (PyTorch .pth)"
    }

    /// What `convert` prints: `<name>: <n> tensors[, <optimiser> state][, epoch <e><note>] → <output>`.
    static func conversionLine(_ contents: TorchCheckpointContents, from name: String, to output: String,
                               epochNote: String = "") -> String {
        let optimizer = contents.optimizer.map { ", \($0.name) state" } ?? ""
        let epoch = contents.epoch.map { ", epoch \($0)\(epochNote)" } ?? ""
        return "\(name): \(contents.tensors.count) tensors\(optimizer)\(epoch) → \(output)"
    }

    /// The optimiser's settings (`lr`, `momentum`, `weight_decay`, and
    /// `initial_lr` with a scheduler) and the learning-rate scheduler after
    /// the epochs completed, from the run arguments the clif-mpi checkpoint
    /// `file` (named `name` in messages) records; `lr` is then the
    /// scheduler's current rate. No scheduler without `lr` and `epoch`.
    /// - Throws: `CheckpointError` naming `name` when the recorded arguments are damaged.
    public static func training(of file: SafeTensorsFile, name: String) throws
        -> (hyperparameters: [String: Double], scheduler: SchedulerState?) {
        let args = try RunArguments.recorded(in: file.metadata, file: name)
        var hyperparameters: [String: Double] = [:]
        for key in ["lr", "momentum", "weight_decay"] { hyperparameters[key] = args[key].flatMap(Double.init) }
        guard let lr = hyperparameters["lr"], let completed = file.metadata["epoch"].flatMap(Int.init) else {
            return (hyperparameters, nil)
        }
        hyperparameters["initial_lr"] = lr
        let kind: SchedulerState.Kind?
        switch args["lr_scheduler"].flatMap(LearningRateSchedule.Kind.init(rawValue:)) {
        case .cosine: kind = args["T_max"].flatMap(Int.init).map { .cosine(tMax: $0) }
        case .step:
            kind = args["step_size"].flatMap(Int.init).flatMap { size in args["gamma"].flatMap(Double.init).map { .step(stepSize: size, gamma: $0) } }
        case nil: kind = nil
        }
        guard let kind else { return (hyperparameters, nil) }
        let scheduler = SchedulerState(kind: kind, baseLearningRate: lr, lastEpoch: completed)
        hyperparameters["lr"] = scheduler.learningRate
        return (hyperparameters, scheduler)
    }
}
