import Core
import Distributed
import Foundation

/// Everything `clif-mpi infer` does once its flags are valid: the original's
/// inference.py output (its arguments, the resume lines, the log folder and
/// its args.txt, the test line) around clif-mpi's table of one row per reset.
struct InferenceRun {
    let arguments: Infer

    func execute(in session: Session) throws {
        let a = arguments
        let leader = session.isLeader
        func say(_ line: String) { if leader { print(line) } }
        session.configureWorkers(a.threads)
        let source = a.evaluated ?? a.preTrain.map { (path: $0, flag: "-pre_train") }
        let described = try CheckpointedModel(path: source?.path, flag: source?.flag ?? "-resume")
        let s = try a.settings(described)
        if s.activation == .relu && a.resets != [nil] {
            throw RunError(description: "--v-reset \(a.vReset): -neuron relu has no membrane to reset; omit --v-reset")
        }
        let namespaceText = a.namespace(s)
        say(namespaceText)

        // The log folder is checked before the data is read (a run that cannot write fails at once).
        let folderPath = a.logFolderPath(s)
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
        let read = { (path: String) in try session.communicator.checkpointBytes(path) }
        let maxTestAccuracy = try a.loadWeights(into: network, described, read: read, say: say)
        say(existed ? folderPath : "Mkdir \(folderPath).")
        if leader {
            if a.saveInit { try a.saveInitial(network, s, in: output.url) }
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

    /// Evaluates every `--v-reset` setting, printing clif-mpi's table on rank 0.
    func evaluate(_ network: Network, on data: LoadedDataset, _ s: InferenceSettings,
                  _ session: Session) -> [ResetSweep.Row] {
        let a = arguments
        let leader = session.isLeader
        if leader { s.tableHeader(testImages: data.test.count, processes: session.size).forEach { print($0) } }
        let setup = EvaluationSetup(data: data, batchSize: a.b, timeSteps: s.timeSteps, loss: a.lossConfig,
                                     precision: a.amp ? .bf16Autocast : .fp32,
                                     shard: session.shard, reducer: session.makeReducer())
        return ResetSweep(activation: s.activation, resets: a.resets ?? [nil]).run(network, setup) { row in
            if leader { print(s.tableRow(row)) }
        }
    }
}
