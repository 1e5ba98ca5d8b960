import ArgumentParser
import Core
import Distributed
import Foundation

struct Energy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure per-layer firing rates on a test set and print the paper's energy estimate.",
        discussion: """
        Evaluates the checkpoint on the dataset's test split with its own neuron, measuring the \
        firing rate entering each convolution / linear layer (the first layer reads the analog \
        input: rate 1) and leaving each neuron layer, then prints per layer and in total the \
        energy per sample (docs/energy.md, after Lemaire et al. 2022): synaptic operations, memory \
        accesses and addressing, for the trained neuron, for LIF (the same weights run with LIF \
        neurons, rates measured again) and for the ANN counterpart (dense MACs). Without \
        --checkpoint a freshly initialised model is measured (pass -model, -dataset, -neuron). \
        Under mpirun the test set is sharded and the counts are summed exactly.
        """)

    @Option(name: checkpointNames, help: "A clif-mpi checkpoint or the original's .pth; omit for a fresh model.")
    var checkpoint: String?
    @Option(name: original("model"), help: "Model name (default: the checkpoint's).") var model: String?
    @Option(name: original("dataset"), help: "Dataset (default: the checkpoint's).") var dataset: String?
    @Option(name: original("data_dir"), help: "Folder holding the dataset files (default: the checkpoint's).") var dataDir: String?
    @Option(name: original("T", "time-steps"), help: "Time steps (default: the checkpoint's, else 6).") var T: Int?
    @Option(name: original("tau"), help: "Membrane time constant (default: the checkpoint's, else 2.0).") var tau: Float?
    @Option(name: original("b", "batch-size"), help: "Evaluation batch size.") var b: Int = 128
    @Option(name: neuronNames,
            help: "Neuron of the model: LIF, CLIF or PLIF, in any letter case (default: the one trained).") var neuron: NeuronName?
    @Option(name: .customLong("lif-v-reset"), help: "Reset of the LIF counterpart: none (soft) or a hard-reset value.")
    var lifVReset: String = "none"
    @Option(name: .customLong("plot"), help: ArgumentHelp("Also draw the energy per sample of every layer (trained neuron, LIF, ANN) as a bar chart into this SVG file, written whole or not at all.", valueName: "file.svg"))
    var plot: String?
    @Option(name: .customLong("threads"), help: "Worker threads per process.") var threads: Int?
    @OptionGroup var job: JobOptions

    var lifReset: Float?? {
        lifVReset.lowercased() == "none" ? .some(nil) : Float(lifVReset).map { .some($0) }
    }

    func validate() throws {
        try FlagCheck.positive(b, "-b")
        try FlagCheck.positive(T, "-T")
        if let plot, let problem = PlotFile.problem(plot) { throw ValidationError(problem) }
        guard lifReset != nil else { throw ValidationError("--lif-v-reset \(lifVReset): expected none or a number") }
    }

    func run() throws {
        let command = self
        try Job.run(job, session: { try command.measure(in: $0) })
    }

    func measure(in session: Session) throws {
        session.configureWorkers(threads)
        let described = try CheckpointedModel(path: checkpoint, flag: "--checkpoint")
        let plotFile = plot.map { PlotFile(path: $0) }
        if session.isLeader { try plotFile?.checkFolder() }
        let (modelName, datasetName) = try described.modelAndDataset(model: model, dataset: dataset)
        let neuronName = try described.setting(neuron?.spelling, "neuron_model", pass: "-neuron")
        let timeSteps = described.timeSteps(T)
        let tauValue = described.tau(tau)
        // The flag's value is a known name; relu, or an unknown recorded name, is refused here.
        guard let neuronModel = ActivationKind(caseInsensitive: neuronName)?.neuronModel else {
            throw RunError(description: "-neuron \(neuronName): the energy estimate needs a spiking neuron (LIF, CLIF, PLIF)")
        }
        let base = NeuronConfig(model: neuronModel, surrogate: .rectangle, tau: tauValue)
        let data = try described.dataset(datasetName, directory: dataDir, frames: timeSteps)
        let network = try described.network(modelName, for: data, activation: .spiking(base))
        try described.loadWeights(into: network) { try session.communicator.checkpointBytes($0) }
        let setup = EvaluationSetup(data: data, batchSize: b, timeSteps: timeSteps,
                                     shard: session.shard, reducer: session.makeReducer())
        let measured = EnergyMeasurement.measure(network, base: base, lifReset: lifReset ?? nil, setup) { totals in
            totals.withUnsafeMutableBufferPointer { buffer in
                if let base = buffer.baseAddress { session.communicator.allreduceSum(base, count: buffer.count) }
            }
        }
        guard session.isLeader else { return }
        let source = checkpoint.map { "\(modelName) from \($0)" } ?? "\(modelName), freshly initialised"
        print("\(source), T=\(timeSteps), \(datasetName) test set (\(data.test.count) images), \(session.size) process(es)")
        let report = EnergyReport(timeSteps: timeSteps, measured: measured)
        print(report.text)
        try plotFile?.write(report.chart(
            title: "clif-mpi energy: \(modelName) on the \(datasetName) test set (\(data.test.count) images)",
            subtitle: "\(checkpoint.map { "checkpoint \($0)" } ?? "freshly initialised model"), T=\(timeSteps)"))
    }
}
