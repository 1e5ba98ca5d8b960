import ArgumentParser
import Core
import Distributed
import Foundation

struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on a test set, with its own neuron or another (the paper's conversion table).",
        discussion: """
        Model, dataset, T and tau default to those recorded in the checkpoint. `-neuron LIF` \
        evaluates a CLIF-trained model with LIF neurons; `--v-reset none,0,-0.02,-0.04,-0.06,-0.08,-0.1` \
        sweeps soft reset (`none`) and hard reset to each value, printing one row per setting \
        (RECIPE §8). Under mpirun every test batch is sharded with exact totals.
        """)

    @Option(name: .customLong("checkpoint"), help: "A clif-mpi checkpoint (.safetensors) or the original's PyTorch .pth (then pass -model, -dataset, -T, -neuron).") var checkpoint: String
    @Option(name: original("model"), help: "Model name (default: the checkpoint's).") var model: String?
    @Option(name: original("dataset"), help: "Dataset (default: the checkpoint's).") var dataset: String?
    @Option(name: original("data_dir"), help: "Folder holding the dataset files (default: the checkpoint's).") var dataDir: String?
    @Option(name: original("T", "time-steps"), help: "Time steps (default: the checkpoint's).") var T: Int?
    @Option(name: original("tau"), help: "Membrane time constant (default: the checkpoint's, else 2.0).") var tau: Float?
    @Option(name: original("b", "batch-size"), help: "Evaluation batch size.") var b: Int = 128
    @Option(name: [.customLong("neuron_model", withSingleDash: true), .customLong("neuron", withSingleDash: true),
                   .customLong("neuron-model")],
            help: "Neuron to evaluate with: LIF, CLIF, PLIF (default: the one trained).") var neuron: String?
    @Option(name: .customLong("v-reset"), help: "Comma-separated resets to evaluate: none (soft) or hard-reset values.")
    var vReset: String = "none"
    @Option(name: .customLong("threads"), help: "Worker threads per process.") var threads: Int?
    @Flag(name: original("amp"), help: ArgumentHelp(ampHelp)) var amp = false
    @OptionGroup var job: JobOptions

    /// The resets to evaluate, nil for soft.
    var resets: [Float?]? {
        let items = vReset.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var out: [Float?] = []
        for item in items {
            if item.lowercased() == "none" { out.append(nil) } else if let v = Float(item) { out.append(v) } else { return nil }
        }
        return out.isEmpty ? nil : out
    }

    func validate() throws {
        guard b > 0 else { throw ValidationError("-b must be positive, got \(b)") }
        if let T { guard T > 0 else { throw ValidationError("-T must be positive, got \(T)") } }
        guard resets != nil else { throw ValidationError("--v-reset \(vReset): expected none or numbers, comma-separated") }
        if let neuron { guard Activation(name: neuron) != nil, neuron.lowercased() != "relu" else {
            throw ValidationError("-neuron \(neuron) is unknown; expected LIF, CLIF or PLIF")
        } }
    }

    func run() throws {
        let command = self
        try Job.run(job) { try command.evaluate(on: $0) }
    }

    func evaluate(on communicator: Communicator) throws {
        Parallel.configure(workers: threads ?? Parallel.availableCores)
        let trained: RunArguments
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: checkpoint), options: .mappedIfSafe)
            // A .pth records no arguments: the flags must say what the model is.
            trained = TorchCheckpoint.isTorchFile(data) ? RunArguments()
                : try RunArguments.recorded(in: SafeTensorsFile(data: data, name: checkpoint).metadata, file: checkpoint)
        } catch let error as SafeTensorsError {
            throw RunError(description: "--checkpoint: \(error.description)")
        } catch let error as CheckpointError {
            throw RunError(description: "--checkpoint: \(error.description)")
        } catch {
            throw RunError(description: "--checkpoint \(checkpoint): cannot read it (\(error.localizedDescription))")
        }
        func setting<V>(_ flag: V?, _ key: String, _ parse: (String) -> V?, _ name: String) throws -> V {
            if let flag { return flag }
            guard let value = trained[key].flatMap(parse) else {
                throw RunError(description: "--checkpoint \(checkpoint) does not record \(key); pass \(name)")
            }
            return value
        }
        let modelName = try setting(model, "model", { $0 }, "-model")
        let datasetName = try setting(dataset, "dataset", { $0 }, "-dataset")
        let timeSteps = try setting(T, "T", { Int($0) }, "-T")
        let tauValue = tau ?? trained["tau"].flatMap { Float($0) } ?? 2.0  // the original's default
        let trainedNeuron = trained["neuron_model"] ?? "?"
        let neuronName = try setting(neuron, "neuron_model", { $0 }, "-neuron")
        guard let activation = Activation(name: neuronName, tau: tauValue), case .spiking(let base) = activation else {
            throw RunError(description: "-neuron \(neuronName): infer evaluates spiking neurons (LIF, CLIF, PLIF)")
        }
        let split = FrameSplit(rawValue: trained["split_by"] ?? "number") ?? .number
        let data = try DatasetCatalog.load(datasetName, dataDirectory: URL(fileURLWithPath: dataDir ?? trained["data_dir"] ?? "./data"),
                                           frames: timeSteps, split: split)
        let network = try ModelFactory.make(ModelSpec(name: modelName, inChannels: data.channels, classes: data.classes,
                                                      height: data.height, width: data.width, activation: activation))
        _ = try loadCheckpoint(checkpoint, into: network, optimizer: nil, communicator)
        let shard = Shard(rank: communicator.rank, size: communicator.size)
        let reducer: BatchReducer = communicator.size > 1 ? DistributedReducer(communicator) : LocalReducer()
        let leader = communicator.rank == 0
        if leader {
            print("\(modelName) trained with \(trainedNeuron), evaluated with \(neuronName), T=\(timeSteps), \(datasetName) test set (\(data.test.count) images), \(communicator.size) process(es)")
            print("| neuron | reset | top-1 | top-5 | loss | samples/s |")
            print("|---|---|---|---|---|---|")
        }
        for reset in resets! {
            for (_, layer) in network.neurons {
                var config = base
                config.vReset = reset
                layer.config = config
            }
            let result = Evaluation.run(network, on: data.test, normalization: data.normalization, batchSize: b,
                                        timeSteps: timeSteps, shard: shard, reducer: reducer,
                                        precision: amp ? .bf16Autocast : .fp32)
            if leader {
                let label = reset.map { "hard \($0)" } ?? "soft"
                print(String(format: "| %@ | %@ | %.2f %% | %.2f %% | %.4f | %.1f |", neuronName, label,
                             100 * result.top1, 100 * result.top5, result.loss, result.samplesPerSecond))
            }
        }
    }
}
