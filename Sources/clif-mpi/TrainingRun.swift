import ArgumentParser
import Core
import Distributed
import Foundation

/// Everything `clif-mpi train` does once its flags are valid.
struct TrainingRun {
    let arguments: Train

    /// The original's run-folder name.
    var runFolderName: String {
        let a = arguments
        var name = "BPTT_\(a.dataset)_\(a.model)_\(a.name)_T\(effectiveTimeSteps)_tau\(a.tau)_e\(a.epochs)_bs\(a.b)_\(a.opt.spelling)_lr\(a.lr)_wd\(a.weightDecay)_SG_\(a.surrogate.rawValue)_drop\(a.dropRate)_losslamb\(a.lossLambda)_"
        switch a.lrScheduler {
        case .cosine: name += "CosALR_\(a.tMax)"
        case .step: name += "StepLR_\(a.stepSize)_\(a.gamma)"
        }
        if a.amp { name += "_amp" }
        return name
    }

    var activation: Activation {
        Activation(arguments.neuronModel.value, surrogate: arguments.surrogate, tau: arguments.tau)
    }

    var effectiveTimeSteps: Int { activation == .relu ? 1 : arguments.T }

    /// The arguments as the original's `args.txt` shows them (`Namespace(…)`).
    var namespaceText: String { recordedArguments(includingResume: true).namespaceText }

    /// The arguments checkpoints record: without `resume`, so a resumed run
    /// ends with the same bytes as an uninterrupted one.
    var checkpointArguments: RunArguments { recordedArguments(includingResume: false) }

    /// The run's arguments under the original's names, in its `args.txt` order.
    func recordedArguments(includingResume: Bool) -> RunArguments {
        let a = arguments
        func text(_ value: String?) -> RunArguments.Value { value.map { .text($0) } ?? .none }
        func number<N: LosslessStringConvertible>(_ value: N) -> RunArguments.Value { .number(String(value)) }
        var entries: [RunArguments.Entry] = [
            .init("T", number(effectiveTimeSteps)), .init("T_max", number(a.tMax)), .init("amp", .flag(a.amp)),
            .init("b", number(a.b)), .init("cutupmix_auto", .flag(a.cutupmixAuto)), .init("data_dir", text(a.dataDir)),
            .init("dataset", text(a.dataset)), .init("drop_rate", number(a.dropRate)), .init("epochs", number(a.epochs)),
            .init("gamma", number(a.gamma)), .init("j", number(a.j)), .init("label_smoothing", number(a.labelSmoothing)),
            .init("loss_lambda", number(a.lossLambda)), .init("loss_means", number(a.lossMeans)), .init("lr", number(a.lr)),
            .init("lr_scheduler", text(a.lrScheduler.rawValue)), .init("model", text(a.model)), .init("momentum", number(a.momentum)),
            .init("mse_n_reg", .flag(a.mseNReg)), .init("name", text(a.name)), .init("neuron_model", text(a.neuronModel.spelling)),
            .init("opt", text(a.opt.spelling)), .init("out_dir", text(a.outDir)), .init("pre_train", text(a.preTrain)),
            .init("resume", includingResume ? text(a.resume) : .none), .init("save_init", .flag(a.saveInit)),
            .init("seed", number(a.seed)), .init("step_size", number(a.stepSize)), .init("surrogate", text(a.surrogate.rawValue)),
            .init("tau", number(a.tau)), .init("weight_decay", number(a.weightDecay)),
        ]
        // clif-mpi's own options that change the model are recorded too.
        if a.bn != .sync { entries.append(.init("bn", .text(a.bn.rawValue))) }
        if a.splitBy != .number { entries.append(.init("split_by", .text(a.splitBy.rawValue))) }
        return RunArguments(entries)
    }

    var options: TrainingOptions {
        let a = arguments
        var o = TrainingOptions()
        o.timeSteps = effectiveTimeSteps
        o.batchSize = a.b
        o.epochs = a.epochs
        o.learningRate = a.lr
        o.momentum = a.momentum
        o.weightDecay = a.weightDecay
        o.optimizer = a.opt.value
        o.schedule = LearningRateSchedule(a.lrScheduler, tMax: a.tMax, stepSize: a.stepSize, gamma: a.gamma)
        o.loss = LossConfig(lambda: a.lossLambda, lossMeans: a.lossMeans, mseOneHot: a.mseNReg, labelSmoothing: a.labelSmoothing)
        o.seed = a.seed
        o.maxSteps = a.maxSteps
        o.shuffle = !a.noShuffle
        o.augment = !a.noAugment
        o.batchNorm = a.bn
        o.onNonFinite = a.onNan
        o.precision = a.amp ? .bf16Autocast : .fp32
        if a.cutupmixAuto, let recipe = CutupmixAuto.recipe(for: a.dataset) {
            o.mixing = recipe.mixing
            o.dropLastBatch = recipe.dropLastBatch
        }
        return o
    }

    /// The engine's view of the run, checkpoints in `folder`.
    func setup(folder: URL) -> TrainingJob.Setup {
        let a = arguments
        return TrainingJob.Setup(
            dataset: a.dataset, dataDirectory: URL(fileURLWithPath: a.dataDir), split: a.splitBy,
            cutupmixAuto: a.cutupmixAuto, model: a.model, activation: activation, dropRate: a.dropRate,
            options: options, chunkSamples: a.chunkSamples, arguments: checkpointArguments, resume: a.resume,
            preTrain: a.preTrain, saveInitial: a.saveInit, checkEvery: a.checkEvery,
            checkpoints: CheckpointPolicy(folder: folder, optimizerName: a.opt.spelling))
    }

    /// Trains, on this process alone or as one rank of an MPI job.
    func execute(in session: Session) throws {
        func say(_ line: String) { if session.isLeader { print(line) } }
        session.configureWorkers(arguments.threads)
        let output = OutputFolder(url: URL(fileURLWithPath: arguments.outDir).appendingPathComponent(runFolderName),
                                  flagValue: arguments.outDir)
        if session.isLeader { try output.prepare() }
        let job = try makeJob(folder: output.url, session: session)
        if session.isLeader { try output.checkSpace(checkpointBytes: job.checkpointBytes) }
        try job.restore(note: { print($0) })
        if session.isLeader { try output.writeArguments(namespaceText) }
        let data = job.data
        say("\(arguments.model) (\(job.network.parameters.count) parameters), \(arguments.neuronModel.spelling), T=\(job.options.timeSteps), dataset \(data.name): \(data.train.count) train / \(data.test.count) test images of \(data.channels)×\(data.height)×\(data.width), \(session.size) process\(session.size == 1 ? "" : "es")")
        let signals = StopSignals()
        let outcome = try job.train(events(signals: signals, processes: session.size))
        if outcome.stoppedOnRequest, let signal = signals.received {
            // The shell's convention for a process ended by a signal.
            throw ExitCode(128 + signal)
        }
        say("max_test_acc=\(outcome.state.maxTestAccuracy), steps=\(outcome.state.globalStep), run folder \(output.url.path)")
    }

    /// Loads the data and builds the model, the errors worded with their flags.
    func makeJob(folder: URL, session: Session) throws -> TrainingJob {
        do {
            return try TrainingJob(setup(folder: folder), session: session, datasetNote: {
                print("-dataset \(arguments.dataset): \($0)")
                fflush(stdout)
            })
        } catch let error as DataError {
            throw RunError(description: "-dataset \(arguments.dataset): \(error.description)")
        } catch let error as ModelError {
            throw RunError(description: error.description)
        }
    }

    /// What rank 0 prints while the run trains: progress, skipped steps,
    /// a line per epoch, where a stopped run resumes.
    func events(signals: StopSignals, processes: Int) -> TrainingEvents {
        let progress = ProgressDisplay()
        return TrainingEvents(
            batch: { progress.show($0) },
            batchesEnded: { progress.finish() },
            skippedStep: { print("skipped a step with non-finite values (--on-nan skip) at \($0)") },
            epoch: { print($0.line) },
            stopped: { print(TrainingEvents.stopLine($0, onRequest: $1)) },
            stopRequested: { signals.received != nil })
    }
}
