import ArgumentParser
import Core
import Distributed
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time training steps (or inference) of a model on synthetic or real data.",
        discussion: """
        Prints samples/s, dense-equivalent GFLOP/s (3× the forward multiply-adds × 2 for a \
        training step), the firing rate of every neuron layer and (training, rectangle or triangle \
        surrogate) the fraction of its elements and of its pixels (any channel) whose surrogate \
        window was open, the share of step time per kind \
        of work and the peak RSS. Under mpirun the batch is sharded as in training and the \
        figures are for the whole job.
        """)

    @Option(name: original("model"), help: "Model name (see `train --help`).") var model = "spiking_resnet18"
    @Option(name: neuronNames, help: "Neuron, in any letter case.") var neuron = NeuronName(.clif)
    @Option(name: original("T", "time-steps"), help: "Time steps.") var T = 6
    @Option(name: original("b", "batch-size"), help: "Global batch size.") var b = 32
    @Option(name: .customLong("input"), help: ArgumentHelp("Synthetic input shape.", valueName: "CxHxW"))
    var input = ImageShape(channels: 3, height: 32, width: 32)
    @Option(name: .customLong("classes"), help: "Classes of the synthetic data.") var classes = 10
    @Option(name: original("dataset"), help: "Use the train split of a real dataset instead of synthetic data.") var dataset: String?
    @Option(name: original("data_dir"), help: "Dataset folder.") var dataDir = "./data"
    @Option(name: .customLong("steps"), help: "Timed steps.") var steps = 5
    @Option(name: .customLong("warmup"), help: "Untimed steps first.") var warmup = 1
    @Option(name: .customLong("threads"), help: "Worker threads per process.") var threads: Int?
    @Option(name: .customLong("chunk-samples"), help: "Samples per reduction chunk (see `train --help`).") var chunkSamples = BatchLayout.defaultChunkSamples
    @Flag(name: .customLong("inference"), help: "Time evaluation forward passes instead of training steps.") var inference = false
    @Option(name: .customLong("event-density"),
            help: "Largest fraction of nonzero conv inputs at which a chunk takes the event-driven kernels (0: always im2col + GEMM).")
    var eventDensity = Double(Conv2d.eventDensityLimit)
    @Option(name: .customLong("gated-density"),
            help: "Largest fraction of open surrogate windows in a conv's input at which a chunk computes the input gradient only at them (0: always the dense GEMM).")
    var gatedDensity = (Double(Conv2d.gatedDensityLimit) * 1000).rounded() / 1000   // 0.35, not 0.3499999940395355
    @Flag(name: .customLong("amp"), help: ArgumentHelp(ampHelp)) var amp = false
    @Option(name: .customLong("neuron-kernels"), help: "Only time the fused neuron kernels on T × this many neurons (under mpirun on every rank at once, each line starting with its rank).") var neuronKernels: Int?
    @Option(name: .customLong("conv-kernels"),
            help: "Only time the conv kernels (event-driven and dense) on spiking_resnet18's 3×3 shapes: one chunk of T images whose spikes and open windows have this density (under mpirun on every rank at once, each line starting with its rank).")
    var convKernels: Double?
    @OptionGroup var job: JobOptions

    func validate() throws {
        guard T > 0, b > 0, steps > 0, warmup >= 0, chunkSamples > 0 else {
            throw ValidationError("-T, -b, --steps and --chunk-samples must be positive")
        }
        guard (0...1).contains(eventDensity) else { throw ValidationError("--event-density \(eventDensity) is not in 0...1") }
        guard (0...1).contains(gatedDensity) else { throw ValidationError("--gated-density \(gatedDensity) is not in 0...1") }
        try FlagCheck.positive(neuronKernels, "--neuron-kernels")
        if let convKernels, !(convKernels > 0 && convKernels <= 1) {
            throw ValidationError("--conv-kernels \(convKernels) is not a density in (0, 1]")
        }
    }

    func run() throws {
        let arguments = self
        try Job.run(job, session: { try arguments.measure(in: $0) })
    }

    func measure(in session: Session) throws {
        session.configureWorkers(threads)
        Conv2d.eventDensityLimit = Float(eventDensity)
        Conv2d.gatedDensityLimit = Float(gatedDensity)
        // Under mpirun every rank times its own copy at once (all cores busy); its lines carry its rank.
        let rankLabel = session.size > 1 ? "rank \(session.rank): " : ""
        if let width = neuronKernels {
            NeuronKernels.timeEveryModel(timeSteps: T, width: width) { print(rankLabel + $0) }
            return
        }
        if let density = convKernels {
            print(rankLabel + "conv kernels on one thread, one chunk of \(T) images, spikes and open windows at density \(density); OpenBLAS kernels: \(Gemm.coreName), sgemm peak \(String(format: "%.1f", Gemm.measuredPeak(workers: 1))) GFLOP/s on one thread")
            ConvKernelTiming.timeShapes(images: T, density: Float(density)) { print(rankLabel + $0) }
            return
        }
        let activation = Activation(neuron.value)
        let setup = BenchMeasurement.Setup(
            model: model, activation: activation, timeSteps: activation == .relu ? 1 : T, batchSize: b,
            chunkSamples: chunkSamples, steps: steps, warmup: warmup, inference: inference,
            precision: amp ? .bf16Autocast : .fp32, dataset: dataset, dataDirectory: URL(fileURLWithPath: dataDir),
            input: (input.channels, input.height, input.width), classes: classes)
        guard let report = try BenchMeasurement.run(setup, session: session, note: { print($0) }) else { return }
        print("\(model) \(neuron.spelling) T=\(setup.timeSteps) b=\(b) input \(report.channels)x\(report.height)x\(report.width), \(report.ranks) process(es) × \(report.workers) worker(s), \(inference ? "inference" : "training"), \(amp ? "bf16 autocast (-amp)" : "fp32")")
        report.lines.forEach { print($0) }
        print(String(format: "peak RSS: %.1f MB", Double(peakResidentBytes()) / 1e6))
    }
}
