import Core
import Distributed
import Foundation

/// Everything `clif-mpi infer` does once its flags are valid: the original's
/// inference.py output (its arguments, the resume lines, the log folder and
/// its args.txt, the test line) around clif-mpi's table of one row per reset.
struct InferenceRun {
    let arguments: Infer

    /// What is evaluated: each flag, else what the checkpoint records, else
    /// inference.py's default.
    func settings(_ described: CheckpointedModel) throws -> InferenceSettings {
        let a = arguments
        // The flag is parsed already; a checkpoint's recorded neuron is checked here.
        let recorded = described.trainedNeuron ?? "LIF"
        guard let neuron = a.neuron ?? NeuronName(argument: recorded) else {
            throw RunError(description: "the checkpoint records neuron_model '\(recorded)', which clif-mpi does not know; pass -neuron LIF, CLIF, PLIF or relu")
        }
        let tau = described.setting(a.tau, "tau", otherwise: 2.0) { Float($0) }
        let activation = Activation(neuron.value, surrogate: a.surrogate, tau: tau)
        if activation == .relu && a.resets != [nil] {
            throw RunError(description: "--v-reset \(a.vReset): -neuron relu has no membrane to reset; omit --v-reset")
        }
        let timeSteps = activation == .relu ? 1 : described.setting(a.T, "T", otherwise: 6) { Int($0) }
        return InferenceSettings(model: described.setting(a.model, "model", otherwise: "spiking_vgg11_bn"),
                                 dataset: described.setting(a.dataset, "dataset", otherwise: "cifar10"),
                                 dataDirectory: described.setting(a.dataDir, "data_dir", otherwise: "./data"),
                                 timeSteps: timeSteps, tau: tau, neuron: neuron.spelling,
                                 activation: activation, trainedNeuron: described.trainedNeuron)
    }

    /// The arguments as inference.py prints them (`Namespace(…)`, sorted by name).
    func namespace(_ s: InferenceSettings) -> String {
        let a = arguments
        func text(_ value: String?) -> String { value.map { "'\($0)'" } ?? "None" }
        func bool(_ value: Bool) -> String { value ? "True" : "False" }
        let items: [(String, String)] = [
            ("T", "\(s.timeSteps)"), ("amp", bool(a.amp)), ("b", "\(a.b)"), ("cutupmix_auto", bool(a.cutupmixAuto)),
            ("data_dir", text(s.dataDirectory)), ("dataset", text(s.dataset)), ("drop_rate", "\(a.dropRate)"),
            ("j", "\(a.j)"), ("label_smoothing", "\(a.labelSmoothing)"), ("loss_lambda", "\(a.lossLambda)"),
            ("loss_means", "\(a.lossMeans)"), ("model", text(s.model)), ("mse_n_reg", bool(a.mseNReg)),
            // argparse's type=bool: any non-empty value is True.
            ("multiple_step", bool(!a.multipleStep.isEmpty && a.multipleStep != "False")),
            ("name", text(a.name)), ("neuron_model", text(s.neuron)), ("out_dir", text(a.outDir)),
            ("pre_train", text(a.preTrain)), ("resume", text(a.evaluated?.path)), ("save_init", bool(a.saveInit)),
            ("seed", "\(a.seed)"), ("surrogate", text(a.surrogate.rawValue)), ("tau", "\(s.tau)"), ("weight_decay", "\(a.weightDecay)"),
        ]
        return "Namespace(" + items.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + ")"
    }

    func execute(in session: Session) throws {
        let a = arguments
        let leader = session.isLeader
        func say(_ line: String) { if leader { print(line) } }
        session.configureWorkers(a.threads)
        let source = a.evaluated ?? a.preTrain.map { (path: $0, flag: "-pre_train") }
        let described = try CheckpointedModel(path: source?.path, flag: source?.flag ?? "-resume")
        let s = try settings(described)
        let namespaceText = namespace(s)
        say(namespaceText)

        // The log folder is checked before the data is read (a run that cannot write fails at once).
        let folderPath = (a.outDir.hasSuffix("/") ? a.outDir : a.outDir + "/") + s.folderName(name: a.name, batchSize: a.b, cutupmixAuto: a.cutupmixAuto)
        let output = OutputFolder(url: URL(fileURLWithPath: folderPath), flagValue: a.outDir)
        let existed = FileManager.default.fileExists(atPath: folderPath)
        let plot = a.plot.map { PlotFile(path: $0) }
        if leader {
            try plot?.checkFolder()
            try output.prepare()
        }

        let data = try described.dataset(s.dataset, directory: s.dataDirectory, frames: s.timeSteps)
        let network = try described.network(s.model, for: data, activation: s.activation, dropout: a.dropRate, seed: a.seed)
        if let line = InferenceSettings.familyLine(s.model) { say(line) }
        say(String(format: "Total Parameters: %.2fM", Double(network.parameters.count) / 1_000_000))
        let maxTestAccuracy = try loadWeights(into: network, described, session.communicator, say: say)
        say(existed ? folderPath : "Mkdir \(folderPath).")
        if leader {
            if a.saveInit { try saveInitial(network, s, namespace: namespaceText, in: output.url) }
            try output.writeArguments(namespaceText)
        }

        let rows = evaluate(network, on: data, s, session)
        if leader, let plot {
            try plot.write(s.chart(rows, testImages: data.test.count, checkpoint: source?.path))
        }
        guard let first = rows.first?.result, leader else { return }
        try finish(first, s, maxTestAccuracy: maxTestAccuracy, in: output)
    }

    /// inference.py's last lines, printed and appended to its log file.
    func finish(_ first: Evaluation.Result, _ s: InferenceSettings, maxTestAccuracy: String, in output: OutputFolder) throws {
        let info = "test_loss=\(first.loss), test_acc=\(first.top1), max_test_acc=\(maxTestAccuracy), total_time=\(first.seconds)"
        let memory = String(format: "after one epoch: %fGB", Double(peakResidentBytes()) / 1024 / 1024 / 1024)
        let throughput = "\(first.samplesPerSecond * Double(s.timeSteps))"
        print(info)
        print(memory)
        print("Final Throughput: \(throughput)")
        try output.writeArguments("\n" + info + "\n" + memory + "\n" + "Throughput\n" + throughput + "\n", append: true)
    }

    /// Loads `-resume`'s checkpoint, then `-pre_train`'s (as inference.py
    /// does), printing its lines; returns the max test accuracy to report.
    func loadWeights(into network: Network, _ described: CheckpointedModel, _ communicator: Communicator,
                     say: (String) -> Void) throws -> String {
        let a = arguments
        let read = { (path: String) in try communicator.checkpointBytes(path) }
        var maxTestAccuracy = "0"
        if let evaluated = a.evaluated {
            say("resuming...")
            if let state = try described.loadWeights(into: network, file: evaluated.path, read: read) {
                maxTestAccuracy = "\(state.maxTestAccuracy)"
                say("start epoch: \(state.epoch) , max test acc: \(maxTestAccuracy)")
            }
        }
        if let preTrain = a.preTrain {
            let state = try described.loadWeights(into: network, file: preTrain, read: read)
            say("use pre-trained model, max test acc: \(state?.maxTestAccuracy ?? 0)")
        }
        if described.path == nil { say("note: no -resume or -pre_train: evaluating the model -seed \(a.seed) initialises") }
        return maxTestAccuracy
    }

    /// `-save_init`: the evaluated weights as checkpoint_0.safetensors in the log folder.
    func saveInitial(_ network: Network, _ s: InferenceSettings, namespace: String, in folder: URL) throws {
        try Checkpoint.save(network: network, optimizer: nil, optimizerName: "SGD",
                            state: TrainingState(epoch: 0, globalStep: 0, maxTestAccuracy: 0,
                                                 arguments: RunArguments(namespace: namespace), model: s.model),
                            to: folder.appendingPathComponent("checkpoint_0.safetensors"))
    }

    /// Evaluates every `--v-reset` setting, printing clif-mpi's table on rank 0.
    func evaluate(_ network: Network, on data: LoadedDataset, _ s: InferenceSettings,
                  _ session: Session) -> [ResetSweep.Row] {
        let a = arguments
        let leader = session.isLeader
        if leader { s.tableHeader(testImages: data.test.count, processes: session.size).forEach { print($0) } }
        let loss = LossConfig(lambda: a.lossLambda, lossMeans: a.lossMeans, mseOneHot: a.mseNReg, labelSmoothing: a.labelSmoothing)
        let setup = EvaluationSetup(data: data, batchSize: a.b, timeSteps: s.timeSteps, loss: loss,
                                     precision: a.amp ? .bf16Autocast : .fp32,
                                     shard: session.shard, reducer: session.makeReducer())
        return ResetSweep(activation: s.activation, resets: a.resets ?? [nil]).run(network, setup) { row in
            if leader { print(s.tableRow(row)) }
        }
    }
}
