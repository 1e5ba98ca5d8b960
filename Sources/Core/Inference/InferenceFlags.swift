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
    /// name, text in Python's `repr`), with the settings `s` resolved from
    /// the flags and the checkpoint.
    public func namespace(_ s: InferenceSettings) -> String { arguments(s).namespaceText }

    /// inference.py's arguments, sorted by name, with the settings `s`:
    /// what infer prints, writes to args.txt and `-save_init` records.
    public func arguments(_ s: InferenceSettings) -> RunArguments {
        func text(_ value: String?) -> RunArguments.Value { value.map { .text($0) } ?? .none }
        func number<N: LosslessStringConvertible>(_ value: N) -> RunArguments.Value { .number(String(value)) }
        return RunArguments([
            .init("T", number(s.timeSteps)), .init("amp", .flag(amp)), .init("b", number(b)),
            .init("cutupmix_auto", .flag(cutupmixAuto)), .init("data_dir", text(s.dataDirectory)),
            .init("dataset", text(s.dataset)), .init("drop_rate", number(dropRate)), .init("j", number(j)),
            .init("label_smoothing", number(labelSmoothing)), .init("loss_lambda", number(lossLambda)),
            .init("loss_means", number(lossMeans)), .init("model", text(s.model)), .init("mse_n_reg", .flag(mseNReg)),
            // argparse's type=bool: any non-empty value is True.
            .init("multiple_step", .flag(!multipleStep.isEmpty && multipleStep != "False")),
            .init("name", text(name)), .init("neuron_model", text(s.neuron)), .init("out_dir", text(outDir)),
            .init("pre_train", text(preTrain)), .init("resume", text(evaluated?.path)), .init("save_init", .flag(saveInit)),
            .init("seed", number(seed)), .init("surrogate", text(surrogate.rawValue)), .init("tau", number(s.tau)),
            .init("weight_decay", number(weightDecay)),
        ])
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
    /// the log folder `folder`, recording `arguments(s)` (the printed arguments).
    public func saveInitial(_ network: Network, _ s: InferenceSettings, in folder: URL) throws {
        try Checkpoint.save(network: network, optimizer: nil, optimizerName: "SGD",
                            state: TrainingState(epoch: 0, globalStep: 0, maxTestAccuracy: 0,
                                                 arguments: arguments(s), model: s.model),
                            to: folder.appendingPathComponent("checkpoint_0.safetensors"))
    }
}
