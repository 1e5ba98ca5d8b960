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

    @Option(name: .customLong("checkpoint"), help: "A clif-mpi checkpoint or the original's .pth; omit for a fresh model.")
    var checkpoint: String?
    @Option(name: original("model"), help: "Model name (default: the checkpoint's).") var model: String?
    @Option(name: original("dataset"), help: "Dataset (default: the checkpoint's).") var dataset: String?
    @Option(name: original("data_dir"), help: "Folder holding the dataset files (default: the checkpoint's).") var dataDir: String?
    @Option(name: original("T", "time-steps"), help: "Time steps (default: the checkpoint's, else 6).") var T: Int?
    @Option(name: original("tau"), help: "Membrane time constant (default: the checkpoint's, else 2.0).") var tau: Float?
    @Option(name: original("b", "batch-size"), help: "Evaluation batch size.") var b: Int = 128
    @Option(name: [.customLong("neuron_model", withSingleDash: true), .customLong("neuron", withSingleDash: true),
                   .customLong("neuron-model")],
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
        try Job.run(job) { try command.measure(on: $0) }
    }

    /// The firing rates of one evaluation pass, summed over every process.
    struct Pass {
        let neuron: String
        let top1: Double
        let layers: [MeasuredLayer]
        let neuronRates: [(name: String, rate: Double)]
    }

    func measure(on communicator: Communicator) throws {
        Parallel.configure(workers: threads ?? Parallel.availableCores)
        let described = try CheckpointedModel(path: checkpoint, flag: "--checkpoint")
        let plotFile = plot.map { PlotFile(path: $0) }
        if communicator.rank == 0 { try plotFile?.checkFolder() }
        let modelName = try described.setting(model, "model", pass: "-model")
        let datasetName = try described.setting(dataset, "dataset", pass: "-dataset")
        let neuronName = try described.setting(neuron?.spelling, "neuron_model", pass: "-neuron")
        let timeSteps = described.setting(T, "T", otherwise: 6) { Int($0) }  // the original's default
        let tauValue = described.setting(tau, "tau", otherwise: 2.0) { Float($0) }
        // The flag's value is a known name; relu, or an unknown recorded name, is refused here.
        guard let neuronModel = ActivationKind(caseInsensitive: neuronName)?.neuronModel else {
            throw RunError(description: "-neuron \(neuronName): the energy estimate needs a spiking neuron (LIF, CLIF, PLIF)")
        }
        let base = NeuronConfig(model: neuronModel, surrogate: .rectangle, tau: tauValue)
        let data = try described.dataset(datasetName, directory: dataDir, frames: timeSteps)
        let network = try described.network(modelName, for: data, activation: .spiking(base))
        try described.loadWeights(into: network) { try communicator.checkpointBytes($0) }
        let shard = Shard(rank: communicator.rank, size: communicator.size)
        let reducer = communicator.makeReducer()

        func pass(_ config: NeuronConfig, label: String) -> Pass {
            for (_, layer) in network.neurons { layer.config = config }
            let meter = ActivityMeter(network)
            let result = Evaluation.run(network, on: data.test, normalization: data.normalization, batchSize: b,
                                        timeSteps: timeSteps, shard: shard, reducer: reducer, observer: meter)
            var totals = meter.fixedSums(network)
            totals.withUnsafeMutableBufferPointer { communicator.allreduceSum($0.baseAddress!, count: $0.count) }
            return Pass(neuron: label, top1: result.top1,
                        layers: meter.measuredLayers(network, totals: totals, samples: data.test.count, timeSteps: timeSteps),
                        neuronRates: meter.neuronRates(network, totals: totals, samples: data.test.count, timeSteps: timeSteps))
        }
        let own = pass(base, label: base.model.rawValue)
        var lifConfig = base
        lifConfig.model = .lif
        lifConfig.vReset = lifReset ?? nil
        let lif = base.model == .lif && base.vReset == lifConfig.vReset
            ? own : pass(lifConfig, label: "LIF" + (lifConfig.vReset.map { " (hard \($0))" } ?? ""))
        guard communicator.rank == 0 else { return }
        let source = checkpoint.map { "\(modelName) from \($0)" } ?? "\(modelName), freshly initialised"
        print("\(source), T=\(timeSteps), \(datasetName) test set (\(data.test.count) images), \(communicator.size) process(es)")
        let report = EnergyReport(timeSteps: timeSteps, trained: own, trainedNeuron: base.model == .clif ? .clif : .lif, lif: lif)
        print(report.text)
        try plotFile?.write(report.chart(
            title: "clif-mpi energy: \(modelName) on the \(datasetName) test set (\(data.test.count) images)",
            subtitle: "\(checkpoint.map { "checkpoint \($0)" } ?? "freshly initialised model"), T=\(timeSteps)"))
    }
}

/// The tables `clif-mpi energy` prints: firing rates per neuron layer, energy
/// per synaptic layer, and totals split as the paper reports them.
struct EnergyReport {
    let timeSteps: Int
    let trained: Energy.Pass
    let trainedNeuron: EnergyModel.Neuron
    let lif: Energy.Pass

    func energy(_ layer: MeasuredLayer, _ neuron: EnergyModel.Neuron) -> EnergyModel.Energy {
        EnergyModel.energy(layer.layer, neuron: neuron, timeSteps: timeSteps,
                           inputRate: layer.inputRate, outputRate: layer.outputRate,
                           staticInput: layer.analogInput)
    }

    static func nanojoules(_ pj: Double) -> String { String(format: "%.2f", pj / 1000) }
    static func percent(_ rate: Double) -> String { String(format: "%.2f %%", 100 * rate) }

    static func describe(_ shape: EnergyModel.Shape) -> String {
        switch shape {
        case let .convolution(c, h, w, o, oh, ow, kh, kw): return "conv \(kh)×\(kw) \(c)×\(h)×\(w) → \(o)×\(oh)×\(ow)"
        case let .linear(i, o): return "linear \(i) → \(o)"
        }
    }

    /// Energy per sample of every synaptic layer, one bar each for the trained neuron, LIF and the ANN.
    func chart(title: String, subtitle: String) -> BarChart {
        let rows = zip(trained.layers, lif.layers).map { a, b in
            (name: a.layer.name, energies: [energy(a, trainedNeuron).total, energy(b, .lif).total, energy(a, .ann).total])
        }
        let names = [trained.neuron, lif.neuron, "ANN"]
        return BarChart(title: title, subtitle: subtitle, valueAxis: "energy per sample (nJ)", categoryAxis: "layer",
                        categories: rows.map(\.name),
                        series: names.indices.map { i in (names[i], rows.map { $0.energies[i] / 1000 }) },
                        format: { String(format: "%.2f", $0) })
    }

    var text: String {
        var lines: [String] = []
        let own = trained.neuron, other = lif.neuron
        lines.append("\nFiring rates of the neuron layers:\n")
        lines.append("| neuron layer | \(own) | \(other) |")
        lines.append("|---|---|---|")
        for (a, b) in zip(trained.neuronRates, lif.neuronRates) {
            lines.append("| \(a.name) | \(Self.percent(a.rate)) | \(Self.percent(b.rate)) |")
        }
        lines.append("\nEnergy per sample by layer (nJ; fr = spikes per value and step, the first layer reads the analog input):\n")
        lines.append("| layer | shape | fr in (\(own)) | fr out (\(own)) | \(own) | fr in (\(other)) | fr out (\(other)) | \(other) | ANN |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        var totals = [EnergyModel.Energy(), EnergyModel.Energy(), EnergyModel.Energy()]
        for (a, b) in zip(trained.layers, lif.layers) {
            let e = [energy(a, trainedNeuron), energy(b, .lif), energy(a, .ann)]
            for i in 0..<3 { totals[i] = totals[i] + e[i] }
            let inA = a.analogInput ? "1 (analog)" : Self.percent(a.inputRate)
            let inB = b.analogInput ? "1 (analog)" : Self.percent(b.inputRate)
            lines.append("| \(a.layer.name) | \(Self.describe(a.layer.shape)) | \(inA) | \(Self.percent(a.outputRate)) | "
                         + "\(Self.nanojoules(e[0].total)) | \(inB) | \(Self.percent(b.outputRate)) | "
                         + "\(Self.nanojoules(e[1].total)) | \(Self.nanojoules(e[2].total)) |")
        }
        lines.append("\nTotal energy per sample (nJ):\n")
        lines.append("| model | top-1 | operations | addressing | inputs/outputs | parameters | potentials | total | ÷ ANN |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        let rows = [(own, Self.percent(trained.top1), totals[0]), (other, Self.percent(lif.top1), totals[1]),
                    ("ANN", "", totals[2])]
        for (name, accuracy, e) in rows {
            lines.append("| \(name) | \(accuracy) | \(Self.nanojoules(e.operations)) | \(Self.nanojoules(e.addressing)) | "
                         + "\(Self.nanojoules(e.inputsOutputs)) | \(Self.nanojoules(e.parameters)) | "
                         + "\(Self.nanojoules(e.potentials)) | \(Self.nanojoules(e.total)) | "
                         + String(format: "%.3f", totals[2].total > 0 ? e.total / totals[2].total : 0) + " |")
        }
        return lines.joined(separator: "\n")
    }
}
