import Foundation

/// The flags of `clif-mpi infer` as the engine reads them (the command
/// conforms with its own options), and what follows from them: the
/// arguments inference.py prints and records, its log folder, the
/// checkpoints whose weights are evaluated, `-save_init`'s checkpoint.
public protocol InferenceFlags: OriginalFlags {
    /// `-model`, `-dataset`, `-data_dir`, `-T`, `-tau`: nil when not given.
    var model: String? { get }
    var dataset: String? { get }
    var dataDir: String? { get }
    var T: Int? { get }
    var tau: Float? { get }
    /// `-neuron_model`, and its name as given: nil when not given.
    var neuronKind: ActivationKind? { get }
    var neuronSpelling: String? { get }
    /// The checkpoint to evaluate (`-resume` or `--checkpoint`), with the flag that named it.
    var evaluated: (path: String, flag: String)? { get }
    /// `-multiple_step` as given (argparse's `type=bool`).
    var multipleStep: String { get }
}

extension InferenceFlags {
    /// What is evaluated: each flag, else what the checkpoint records, else
    /// inference.py's default (T = 1 for relu).
    /// - Throws: `CheckpointError` when the checkpoint records a neuron clif-mpi does not know.
    public func settings(_ described: CheckpointedModel) throws -> InferenceSettings {
        let recorded = described.trainedNeuron ?? "LIF"
        guard let kind = neuronKind ?? ActivationKind(caseInsensitive: recorded) else {
            throw CheckpointError(description: "the checkpoint records neuron_model '\(recorded)', which clif-mpi does not know; pass -neuron LIF, CLIF, PLIF or relu")
        }
        let tau = described.tau(self.tau)
        let activation = Activation(kind, surrogate: surrogate, tau: tau)
        return InferenceSettings(model: described.setting(model, "model", otherwise: "spiking_vgg11_bn"),
                                 dataset: described.setting(dataset, "dataset", otherwise: "cifar10"),
                                 dataDirectory: described.setting(dataDir, "data_dir", otherwise: "./data"),
                                 timeSteps: activation == .relu ? 1 : described.timeSteps(T), tau: tau,
                                 neuron: neuronSpelling ?? recorded, activation: activation,
                                 trainedNeuron: described.trainedNeuron)
    }

    /// The arguments as inference.py prints them (`Namespace(…)`, sorted by
    /// name), with the settings `s` resolved from the flags and the checkpoint.
    public func namespace(_ s: InferenceSettings) -> String {
        func text(_ value: String?) -> String { value.map { "'\($0)'" } ?? "None" }
        func bool(_ value: Bool) -> String { value ? "True" : "False" }
        let items: [(String, String)] = [
            ("T", "\(s.timeSteps)"), ("amp", bool(amp)), ("b", "\(b)"), ("cutupmix_auto", bool(cutupmixAuto)),
            ("data_dir", text(s.dataDirectory)), ("dataset", text(s.dataset)), ("drop_rate", "\(dropRate)"),
            ("j", "\(j)"), ("label_smoothing", "\(labelSmoothing)"), ("loss_lambda", "\(lossLambda)"),
            ("loss_means", "\(lossMeans)"), ("model", text(s.model)), ("mse_n_reg", bool(mseNReg)),
            // argparse's type=bool: any non-empty value is True.
            ("multiple_step", bool(!multipleStep.isEmpty && multipleStep != "False")),
            ("name", text(name)), ("neuron_model", text(s.neuron)), ("out_dir", text(outDir)),
            ("pre_train", text(preTrain)), ("resume", text(evaluated?.path)), ("save_init", bool(saveInit)),
            ("seed", "\(seed)"), ("surrogate", text(surrogate.rawValue)), ("tau", "\(s.tau)"), ("weight_decay", "\(weightDecay)"),
        ]
        return "Namespace(" + items.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + ")"
    }

    /// The log folder: inference.py's folder name for `s` under `-out_dir`.
    public func logFolderPath(_ s: InferenceSettings) -> String {
        (outDir.hasSuffix("/") ? outDir : outDir + "/") + s.folderName(name: name, batchSize: b, cutupmixAuto: cutupmixAuto)
    }

    /// Loads `-resume`'s checkpoint, then `-pre_train`'s (as inference.py
    /// does), into `network`, saying inference.py's lines; `read` gives a
    /// checkpoint's bytes (under mpirun, rank 0's copy on every rank).
    /// Returns the max test accuracy to report ("0" without `-resume`).
    /// - Throws: `CheckpointError` or `SafeTensorsError` naming the file.
    public func loadWeights(into network: Network, _ described: CheckpointedModel,
                            read: (String) throws -> Data, say: (String) -> Void) throws -> String {
        var maxTestAccuracy = "0"
        if let evaluated {
            say("resuming...")
            if let state = try described.loadWeights(into: network, file: evaluated.path, read: read) {
                maxTestAccuracy = "\(state.maxTestAccuracy)"
                say("start epoch: \(state.epoch) , max test acc: \(maxTestAccuracy)")
            }
        }
        if let preTrain {
            let state = try described.loadWeights(into: network, file: preTrain, read: read)
            say("use pre-trained model, max test acc: \(state?.maxTestAccuracy ?? 0)")
        }
        if described.path == nil { say("note: no -resume or -pre_train: evaluating the model -seed \(seed) initialises") }
        return maxTestAccuracy
    }

    /// `-save_init`: the evaluated weights as `checkpoint_0.safetensors` in
    /// the log folder `folder`, recording `namespace` (the printed arguments).
    public func saveInitial(_ network: Network, _ s: InferenceSettings, namespace: String, in folder: URL) throws {
        try Checkpoint.save(network: network, optimizer: nil, optimizerName: "SGD",
                            state: TrainingState(epoch: 0, globalStep: 0, maxTestAccuracy: 0,
                                                 arguments: RunArguments(namespace: namespace), model: s.model),
                            to: folder.appendingPathComponent("checkpoint_0.safetensors"))
    }
}
