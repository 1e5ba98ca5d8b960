import ArgumentParser
import Core
import Distributed
import Foundation

/// A user-facing failure of a run: printed as it is, exit status 1.
struct RunError: Error, CustomStringConvertible {
    let description: String
}

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

    /// Trains, on this process alone or as one rank of an MPI job.
    func execute(on communicator: Communicator) throws {
        let leader = communicator.rank == 0
        func say(_ line: String) { if leader { print(line) } }
        Parallel.configure(workers: arguments.threads ?? Parallel.availableCores)
        let output = OutputFolder(url: URL(fileURLWithPath: arguments.outDir).appendingPathComponent(runFolderName),
                                  flagValue: arguments.outDir)
        if leader { try output.prepare() }
        let folder = output.url
        var data: LoadedDataset
        // Rank 0 loads first, so it alone builds a missing event-frame cache
        // that the other ranks (on the same file system) then read.
        // (A rank that fails aborts the job, so none waits forever.)
        if communicator.rank != 0 { communicator.barrier() }
        do {
            data = try DatasetCatalog.load(arguments.dataset, dataDirectory: URL(fileURLWithPath: arguments.dataDir),
                                           frames: effectiveTimeSteps, split: arguments.splitBy,
                                           note: { say("-dataset \(arguments.dataset): \($0)"); fflush(stdout) })
        } catch let error as DataError {
            throw RunError(description: "-dataset \(arguments.dataset): \(error.description)")
        }
        if communicator.rank == 0 { communicator.barrier() }
        if arguments.cutupmixAuto, let recipe = CutupmixAuto.recipe(for: data.name) {
            data = LoadedDataset(name: data.name, train: data.train, test: data.test, normalization: data.normalization,
                                 augmentation: recipe.augmentation)
        }
        let spec = ModelSpec(name: arguments.model, inChannels: data.channels, classes: data.classes,
                             height: data.height, width: data.width, activation: activation,
                             dropout: arguments.dropRate, seed: arguments.seed)
        let network: Network
        do { network = try ModelFactory.make(spec) } catch let error as ModelError {
            throw RunError(description: error.description)
        }
        var options = self.options
        let optimizer = options.makeOptimizer()
        if leader {
            try output.checkSpace(checkpointBytes: Checkpoint.estimatedBytes(
                network: network, optimizerBuffers: optimizer is AdamW ? 2 : 1))
        }

        var state = TrainingState(epoch: 0, globalStep: 0, maxTestAccuracy: 0, arguments: checkpointArguments,
                                  model: arguments.model)
        var resumed: TrainingState?
        if let resume = arguments.resume {
            guard let loaded = try loadCheckpoint(resume, into: network, optimizer: optimizer, communicator) else {
                throw RunError(description: "-resume \(resume): the file holds weights but no training state (epoch, step); use -pre_train to start from its weights")
            }
            resumed = loaded
            say("start epoch: \(loaded.epoch)\(loaded.batchInEpoch > 0 ? " at batch \(loaded.batchInEpoch)" : ""), max test acc: \(loaded.maxTestAccuracy)")
            // The position is read against the checkpoint's own arguments (its -b) before they are replaced.
            state = loaded
            let batches = BatchSource(set: data.train, batchSize: arguments.b, normalization: data.normalization,
                                      augmentation: .none, shuffle: false, seed: 0, dropLast: options.dropLastBatch).batchCount
            do {
                if let note = try state.continueEpoch(batchSize: arguments.b, trainingSamples: data.train.count,
                                                      batches: batches, checkpoint: resume) {
                    say(note)
                }
                if let note = try checkpointArguments.resumeNote(continuing: loaded.arguments, checkpoint: resume) {
                    say(note)
                }
            } catch let error as CheckpointError {
                throw RunError(description: "-resume " + error.description)
            }
            state.arguments = checkpointArguments
        }
        state.batchSize = arguments.b
        let chunking = BatchLayout.resolveChunkSamples(requested: arguments.chunkSamples, batchSize: arguments.b, resumed: resumed)
        options.chunkSamples = chunking.samples
        state.chunkSamples = chunking.samples
        if let note = chunking.note { say(note) }
        if let note = BatchLayout.idleWorkersNote(batchSize: arguments.b, chunkSamples: chunking.samples,
                                                  ranks: communicator.size, threads: Parallel.workers) {
            say(note)
        }
        if let preTrain = arguments.preTrain {
            let loaded = try loadCheckpoint(preTrain, into: network, optimizer: nil, communicator)
            say("use pre-trained model, max test acc: \(loaded?.maxTestAccuracy ?? 0)")
        }
        let divergent = ParameterHash.divergentRanks(network, communicator)
        guard divergent.isEmpty else {
            throw RunError(description: "ranks \(divergent) start from other parameters than rank 0 (different build, data or checkpoint?)")
        }
        if leader {
            if arguments.saveInit {
                try Checkpoint.save(network: network, optimizer: nil, optimizerName: arguments.opt.spelling, state: state,
                                    to: folder.appendingPathComponent("checkpoint_0.safetensors"))
            }
            do {
                try namespaceText.write(to: folder.appendingPathComponent("args.txt"), atomically: true, encoding: .utf8)
            } catch {
                throw RunError(description: "-out_dir \(arguments.outDir): cannot write args.txt in \(folder.path): \(error.localizedDescription)")
            }
        }
        say("\(arguments.model) (\(network.parameters.count) parameters), \(arguments.neuronModel.spelling), T=\(options.timeSteps), dataset \(data.name): \(data.train.count) train / \(data.test.count) test images of \(data.channels)×\(data.height)×\(data.width), \(communicator.size) process\(communicator.size == 1 ? "" : "es")")

        let reducer = communicator.makeReducer()
        let trainer = Trainer(network: network, dataset: data, options: options, optimizer: optimizer, reducer: reducer,
                              shard: Shard(rank: communicator.rank, size: communicator.size), state: state)
        let firing = FiringMonitor(network)
        trainer.observer = firing
        let fault = FaultInjection.fromEnvironment()
        trainer.onStep = { step in
            if let fault, fault.rank == communicator.rank, fault.step == step {
                throw RunError(description: "injected failure at step \(step) (CLIF_MPI_FAIL_AT)")
            }
            guard step % arguments.checkEvery == 0 else { return }
            let divergent = ParameterHash.divergentRanks(network, communicator)
            guard divergent.isEmpty else {
                throw RunError(description: "after step \(step) the parameters of ranks \(divergent) differ from rank 0's; stopping (the last checkpoint is intact)")
            }
        }
        trainer.onSkippedStep = { message in
            if leader { print("skipped a step with non-finite values (--on-nan skip) at \(message)") }
        }
        let logs = leader ? try RunLogs(folder: folder) : nil
        let progress = ProgressDisplay()
        if leader { trainer.onBatch = { progress.show($0) } }
        let start = Date()
        trainer.onEpoch = { report, state in
            let communication = reducer.communicationSeconds
            reducer.resetTimer()
            // Every rank adds its counts (exact integer sums), then starts the next epoch's.
            let activity = firing.summary(sum: { sums in
                guard !sums.isEmpty else { return }
                sums.withUnsafeMutableBufferPointer { communicator.allreduceSum($0.baseAddress!, count: $0.count) }
            }, maximum: { if !$0.isEmpty { communicator.allreduceMax(&$0) } })
            firing.reset()
            guard leader, let logs else { return }
            progress.finish()
            do { try logs.record(report, activity) } catch {
                throw RunError(description: "cannot record epoch \(report.epoch)'s figures in \(folder.path) (metrics.jsonl, TensorBoard events): \(error.localizedDescription); the checkpoints of the previous epoch are kept")
            }
            let data = Checkpoint.encode(network: network, optimizer: optimizer, optimizerName: arguments.opt.spelling, state: state)
            if report.testAcc >= report.maxTestAcc {
                try Checkpoint.writeAtomically(data, to: folder.appendingPathComponent("checkpoint_max.safetensors"))
            }
            try Checkpoint.writeAtomically(data, to: folder.appendingPathComponent("checkpoint_latest.safetensors"))
            let total = Date().timeIntervalSince(start)
            var line = "epoch=\(report.epoch), train_loss=\(report.trainLoss), train_acc=\(report.trainAcc), test_loss=\(report.testLoss), test_acc=\(report.testAcc), max_test_acc=\(report.maxTestAcc), total_time=\(String(format: "%.1f", total)), samples_per_s=\(String(format: "%.1f", report.samplesPerSecond))"
            if communicator.size > 1 { line += String(format: ", communication_share=%.3f", communication / report.seconds) }
            print(line)
        }
        let signals = StopSignals()
        trainer.stopRequested = { signals.received != nil }
        trainer.onInterrupted = { state in
            progress.finish()
            guard leader else { return }
            try Checkpoint.save(network: network, optimizer: optimizer, optimizerName: arguments.opt.spelling, state: state,
                                to: folder.appendingPathComponent("checkpoint_latest.safetensors"))
            let cause = trainer.stoppedOnRequest ? "a stop signal" : "--max-steps"
            print("stopped by \(cause) after step \(state.globalStep), in epoch \(state.epoch) at batch \(state.batchInEpoch); checkpoint_latest resumes there")
        }
        try trainer.run()
        if trainer.stoppedOnRequest, let signal = signals.received {
            // The shell's convention for a process ended by a signal.
            throw ExitCode(128 + signal)
        }
        say("max_test_acc=\(trainer.state.maxTestAccuracy), steps=\(trainer.state.globalStep), run folder \(folder.path)")
    }
}

/// metrics.jsonl, the TensorBoard scalars the original writes, and per
/// neuron layer the firing rate, CLIF's mean memory and membrane histograms.
final class RunLogs {
    let metrics: FileHandle
    let tensorBoard: TensorBoardWriter

    init(folder: URL) throws {
        let url = folder.appendingPathComponent("metrics.jsonl")
        if !FileManager.default.fileExists(atPath: url.path) {
            FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        metrics = try FileHandle(forWritingTo: url)
        try metrics.seekToEnd()
        tensorBoard = try TensorBoardWriter(directory: folder)
    }

    func record(_ report: EpochReport, _ activity: FiringSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // A diverged run still gets its line: NaN and infinities as strings.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity",
                                                                      negativeInfinity: "-Infinity", nan: "NaN")
        try metrics.write(contentsOf: encoder.encode(report) + Data("\n".utf8))
        for (tag, value) in [("train_loss", report.trainLoss), ("train_acc", report.trainAcc),
                             ("test_loss", report.testLoss), ("test_acc", report.testAcc)] {
            try tensorBoard.add(scalar: tag, value, step: report.epoch)
        }
        for (layer, rate) in activity.firingRates {
            try tensorBoard.add(scalar: "firing_rate/\(layer)", rate, step: report.epoch)
        }
        for (layer, mean) in activity.memoryMeans {
            try tensorBoard.add(scalar: "clif_m_mean/\(layer)", mean, step: report.epoch)
        }
        for (layer, histogram) in activity.membranes {
            try tensorBoard.add(histogram: "membrane_minus_threshold/\(layer)", histogram, step: report.epoch)
        }
    }
}

/// A one-line progress bar on a terminal (redrawn at most 5 times a second);
/// elsewhere — a file, a pipe, or mpirun's forwarded output — a plain line
/// at every tenth of a phase.
final class ProgressDisplay {
    let terminal = isatty(STDOUT_FILENO) != 0 && !MPICommunicator.launchedByMPI
    private var lastDraw = Date.distantPast

    func show(_ p: BatchProgress) {
        let eta = p.batch > 0 ? p.elapsed / Double(p.batch) * Double(p.batches - p.batch) : 0
        let line = String(format: "%@ epoch %d (%d/%d) | Loss: %.4f | top1: %.2f | top5: %.2f | ETA: %.0fs",
                          p.phase, p.epoch, p.batch, p.batches, p.loss, p.top1, p.top5, eta)
        if terminal {
            guard p.batch == p.batches || Date().timeIntervalSince(lastDraw) > 0.2 else { return }
            lastDraw = Date()
            let width = 24, filled = p.batches > 0 ? width * p.batch / p.batches : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            print("\r\u{1B}[2K[\(bar)] \(line)", terminator: "")
            fflush(nil)
        } else {
            let tenth = max(1, p.batches / 10)
            if p.batch % tenth == 0 || p.batch == p.batches { print(line) }
        }
    }

    /// Ends the bar's line before other output.
    func finish() {
        if terminal { print("") }
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


/// SIGINT and SIGTERM ask a run to stop in order: the current step finishes,
/// checkpoint_latest is written (resumable with -resume), and the process
/// exits with status 128 + the signal.
final class StopSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var signal: Int32?
    private var sources: [DispatchSourceSignal] = []

    init() {
        for number in [SIGINT, SIGTERM] {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.record(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func record(_ number: Int32) {
        lock.lock(); defer { lock.unlock() }
        if signal == nil {
            signal = number
            FileHandle.standardError.write(Data("received signal \(number): stopping after the current step\n".utf8))
        }
    }

    /// The first stop signal received, if any.
    var received: Int32? {
        lock.lock(); defer { lock.unlock() }
        return signal
    }
}
