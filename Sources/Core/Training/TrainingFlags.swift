import Foundation

/// The flags of `clif-mpi train` as the engine reads them (the command
/// conforms with its own options), and what follows from them alone: the
/// run folder's name, the arguments a run records, its `TrainingOptions`.
public protocol TrainingFlags: OriginalFlags {
    var T: Int { get }
    var tau: Float { get }
    var epochs: Int { get }
    var dataDir: String { get }
    var dataset: String { get }
    var resume: String? { get }
    /// `-opt`: the optimiser, and its name as given.
    var optimizerKind: OptimizerKind { get }
    var optimizerSpelling: String { get }
    var lr: Float { get }
    var momentum: Float { get }
    var lrScheduler: LearningRateSchedule.Kind { get }
    var stepSize: Int { get }
    var gamma: Float { get }
    var tMax: Int { get }
    var model: String { get }
    /// `-neuron_model`: the neuron, and its name as given.
    var neuronKind: ActivationKind { get }
    var neuronSpelling: String { get }
    var splitBy: FrameSplit { get }
    var maxSteps: Int? { get }
    var noShuffle: Bool { get }
    var noAugment: Bool { get }
    var bn: BatchNormStatistics { get }
    var onNan: NonFiniteStep { get }
}

extension TrainingFlags {
    /// The original's run-folder name.
    public var runFolderName: String {
        var name = "BPTT_\(dataset)_\(model)_\(self.name)_T\(effectiveTimeSteps)_tau\(tau)_e\(epochs)_bs\(b)_\(optimizerSpelling)_lr\(lr)_wd\(weightDecay)_SG_\(surrogate.rawValue)_drop\(dropRate)_losslamb\(lossLambda)_"
        switch lrScheduler {
        case .cosine: name += "CosALR_\(tMax)"
        case .step: name += "StepLR_\(stepSize)_\(gamma)"
        }
        if amp { name += "_amp" }
        return name
    }

    public var activation: Activation { Activation(neuronKind, surrogate: surrogate, tau: tau) }

    /// `-T`, or 1 for relu.
    public var effectiveTimeSteps: Int { activation == .relu ? 1 : T }

    /// The arguments as the original's `args.txt` shows them (`Namespace(…)`).
    public var namespaceText: String { recordedArguments(includingResume: true).namespaceText }

    /// The arguments checkpoints record: without `resume`, so a resumed run
    /// ends with the same bytes as an uninterrupted one.
    public var checkpointArguments: RunArguments { recordedArguments(includingResume: false) }

    /// The run's arguments under the original's names, in its `args.txt` order.
    public func recordedArguments(includingResume: Bool) -> RunArguments {
        func text(_ value: String?) -> RunArguments.Value { value.map { .text($0) } ?? .none }
        func number<N: LosslessStringConvertible>(_ value: N) -> RunArguments.Value { .number(String(value)) }
        var entries: [RunArguments.Entry] = [
            .init("T", number(effectiveTimeSteps)), .init("T_max", number(tMax)), .init("amp", .flag(amp)),
            .init("b", number(b)), .init("cutupmix_auto", .flag(cutupmixAuto)), .init("data_dir", text(dataDir)),
            .init("dataset", text(dataset)), .init("drop_rate", number(dropRate)), .init("epochs", number(epochs)),
            .init("gamma", number(gamma)), .init("j", number(j)), .init("label_smoothing", number(labelSmoothing)),
            .init("loss_lambda", number(lossLambda)), .init("loss_means", number(lossMeans)), .init("lr", number(lr)),
            .init("lr_scheduler", text(lrScheduler.rawValue)), .init("model", text(model)), .init("momentum", number(momentum)),
            .init("mse_n_reg", .flag(mseNReg)), .init("name", text(name)), .init("neuron_model", text(neuronSpelling)),
            .init("opt", text(optimizerSpelling)), .init("out_dir", text(outDir)), .init("pre_train", text(preTrain)),
            .init("resume", includingResume ? text(resume) : .none), .init("save_init", .flag(saveInit)),
            .init("seed", number(seed)), .init("step_size", number(stepSize)), .init("surrogate", text(surrogate.rawValue)),
            .init("tau", number(tau)), .init("weight_decay", number(weightDecay)),
        ]
        // clif-mpi's own options that change the model are recorded too.
        if bn != .sync { entries.append(.init("bn", .text(bn.rawValue))) }
        if splitBy != .number { entries.append(.init("split_by", .text(splitBy.rawValue))) }
        return RunArguments(entries)
    }

    /// The run's hyper-parameters.
    public var options: TrainingOptions {
        var o = TrainingOptions()
        o.timeSteps = effectiveTimeSteps
        o.batchSize = b
        o.epochs = epochs
        o.learningRate = lr
        o.momentum = momentum
        o.weightDecay = weightDecay
        o.optimizer = optimizerKind
        o.schedule = LearningRateSchedule(lrScheduler, tMax: tMax, stepSize: stepSize, gamma: gamma)
        o.loss = lossConfig
        o.seed = seed
        o.maxSteps = maxSteps
        o.shuffle = !noShuffle
        o.augment = !noAugment
        o.batchNorm = bn
        o.onNonFinite = onNan
        o.precision = amp ? .bf16Autocast : .fp32
        if cutupmixAuto, let recipe = CutupmixAuto.recipe(for: dataset) {
            o.mixing = recipe.mixing
            o.dropLastBatch = recipe.dropLastBatch
        }
        return o
    }
}
