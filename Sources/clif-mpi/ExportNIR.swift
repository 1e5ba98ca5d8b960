import ArgumentParser
import Core
import Distributed
import Foundation

struct ExportNIR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-nir",
        abstract: "Write a checkpoint's LIF network as a NIR graph (HDF5) for snnTorch, Norse, Sinabs, Rockpool, Lava-dl and neuromorphic toolchains.",
        discussion: """
        A CLIF checkpoint is written as its LIF conversion, the network `infer -neuron LIF` \
        evaluates: BatchNorm folded into the convolutions, average pools as AvgPool2d nodes, \
        residual additions as nodes with two incoming edges. Each LIF layer with decay k, \
        threshold θ and hard reset v_r becomes NIR's LIF with tau = dt/k, r = 1/k, \
        v_leak = v_reset = v_r and v_threshold just below θ (NIR fires on v > v_threshold), which \
        forward Euler at step dt turns back into clif-mpi's update term by term. NIR's LIF resets to \
        v_reset, so the export takes a hard reset (--v-reset, default 0: the file matches \
        `infer -neuron LIF --v-reset 0`); the soft reset and CLIF's memory are refused, naming \
        the layer. --reference writes clif-mpi's own spikes and logits on the first test images, \
        which tools/check_nir.py compares with a NIR importer's.
        """)

    @Option(name: checkpointNames, help: "A clif-mpi checkpoint (.safetensors) or the original's PyTorch .pth (then pass -model, -dataset, -T).") var checkpoint: String
    @Option(name: .customShort("o"), help: ArgumentHelp("The NIR file to write (HDF5, e.g. model.nir).", valueName: "file"))
    var output: String
    @Option(name: original("model"), help: "Model name (default: the checkpoint's).") var model: String?
    @Option(name: original("dataset"), help: "Dataset, for the input shape and --reference (default: the checkpoint's).") var dataset: String?
    @Option(name: original("data_dir"), help: "Folder holding the dataset files (default: the checkpoint's).") var dataDir: String?
    @Option(name: original("T", "time-steps"), help: "Time steps of the --reference run (default: the checkpoint's).") var T: Int?
    @Option(name: original("tau"), help: "Membrane time constant (default: the checkpoint's, else 2.0).") var tau: Float?
    @Option(name: neuronNames,
            help: "Neuron to export: LIF (a CLIF checkpoint's conversion) or PLIF (a PLIF checkpoint's learnt decays), in any letter case.")
    var neuron = NeuronName(.lif)
    @Option(name: .customLong("v-reset"), help: "Hard-reset value of every LIF layer; none (soft reset) is refused, NIR has no field for it.")
    var vReset = "0"
    @Option(name: .customLong("dt"), help: "Time step the NIR time constants are written for (snnTorch's importer assumes 1e-4).")
    var dt: Float = 1e-4
    @Option(name: .customLong("reference"), help: "Also write clif-mpi's spikes and logits on the first --samples test images to this HDF5 file.")
    var reference: String?
    @Option(name: .customLong("samples"), help: "Test images in the --reference file.") var samples = 16

    func validate() throws {
        guard dt > 0, dt.isFinite else { throw ValidationError("--dt must be a positive number, got \(dt)") }
        try FlagCheck.positive(samples, "--samples")
        try FlagCheck.positive(T, "-T")
        guard vReset.lowercased() == "none" || Float(vReset) != nil else {
            throw ValidationError("--v-reset \(vReset): expected a number (none, the soft reset, has no NIR field)")
        }
        guard neuron.value.neuronModel != nil else {
            throw ValidationError("-neuron \(neuron.spelling): NIR's LIF needs a spiking neuron; expected LIF or PLIF")
        }
    }

    func run() throws {
        let described = try CheckpointedModel(path: checkpoint, flag: "--checkpoint")
        let (modelName, datasetName) = try described.modelAndDataset(model: model, dataset: dataset)
        let timeSteps = try described.setting(T, "T", pass: "-T") { Int($0) }
        let tauValue = described.tau(tau)
        let reset = Float(vReset)  // nil: soft, refused by the export naming the first layer
        let data = try described.dataset(datasetName, directory: dataDir, frames: timeSteps)
        let network = try described.network(modelName, for: data, activation: Activation(neuron.value, tau: tauValue, vReset: reset))
        try described.loadWeights(into: network)
        do {
            try export(network, data: data, model: modelName, trainedNeuron: described.trainedNeuron, timeSteps: timeSteps)
        } catch let error as NIRExportError {
            throw RunError(description: "\(checkpoint): cannot export to NIR: \(error.description)")
        }
    }

    /// Writes the NIR file and the --reference run, printing a line for each.
    func export(_ network: Network, data: LoadedDataset, model: String, trainedNeuron: String?, timeSteps: Int) throws {
        let graph = try NIRGraph.export(network, inputShape: [data.channels, data.height, data.width], dt: dt)
        try graph.write(to: output)
        let lifCount = graph.nodes.filter { $0.node.typeName == "LIF" }.count
        print("\(model) (trained with \(trainedNeuron ?? "?")) as NIR: \(graph.nodes.count) nodes, \(graph.edges.count) edges, \(lifCount) LIF layers, dt \(dt), hard reset \(vReset) → \(output)")
        guard let reference else { return }
        let run = try NIRReference.record(network, set: data.test, normalization: data.normalization,
                                          count: samples, timeSteps: timeSteps)
        try run.write(to: reference)
        print("clif-mpi's spikes of \(run.lastNeuron) and logits on \(run.labels.count) test images, T=\(timeSteps) → \(reference)")
    }
}
