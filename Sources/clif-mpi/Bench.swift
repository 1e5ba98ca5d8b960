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

    @Option(name: .customLong("model"), help: "Model name (see `train --help`).") var model = "spiking_resnet18"
    @Option(name: [.customLong("neuron"), .customLong("neuron_model", withSingleDash: true)], help: "Neuron, in any letter case.") var neuron = NeuronName(.clif)
    @Option(name: .customShort("T"), help: "Time steps.") var T = 6
    @Option(name: .customShort("b"), help: "Global batch size.") var b = 32
    @Option(name: .customLong("input"), help: ArgumentHelp("Synthetic input shape.", valueName: "CxHxW"))
    var input = ImageShape(channels: 3, height: 32, width: 32)
    @Option(name: .customLong("classes"), help: "Classes of the synthetic data.") var classes = 10
    @Option(name: .customLong("dataset"), help: "Use the train split of a real dataset instead of synthetic data.") var dataset: String?
    @Option(name: .customLong("data_dir", withSingleDash: true), help: "Dataset folder.") var dataDir = "./data"
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
    @Option(name: .customLong("neuron-kernels"), help: "Only time the fused neuron kernels on T × this many neurons.") var neuronKernels: Int?
    @OptionGroup var job: JobOptions

    func validate() throws {
        guard T > 0, b > 0, steps > 0, warmup >= 0, chunkSamples > 0 else {
            throw ValidationError("-T, -b, --steps and --chunk-samples must be positive")
        }
        guard (0...1).contains(eventDensity) else { throw ValidationError("--event-density \(eventDensity) is not in 0...1") }
        guard (0...1).contains(gatedDensity) else { throw ValidationError("--gated-density \(gatedDensity) is not in 0...1") }
        try FlagCheck.positive(neuronKernels, "--neuron-kernels")
    }

    func run() throws {
        let arguments = self
        try Job.run(job, session: { try arguments.measure(in: $0) })
    }

    func measure(in session: Session) throws {
        session.configureWorkers(threads)
        Conv2d.eventDensityLimit = Float(eventDensity)
        Conv2d.gatedDensityLimit = Float(gatedDensity)
        if let width = neuronKernels {
            timeNeuronKernels(width: width)
            return
        }
        let activation = Activation(neuron.value)
        let setup = BenchMeasurement.Setup(
            model: model, activation: activation, timeSteps: activation == .relu ? 1 : T, batchSize: b,
            chunkSamples: chunkSamples, steps: steps, warmup: warmup, inference: inference,
            precision: amp ? .bf16Autocast : .fp32, dataset: dataset, dataDirectory: URL(fileURLWithPath: dataDir),
            input: (input.channels, input.height, input.width), classes: classes)
        guard let report = try BenchMeasurement.run(setup, session: session, note: { print($0) }) else { return }
        printRates(report, timeSteps: setup.timeSteps)
        printShares(report)
        printBusy(report.busy, steps: steps)
        printNeurons(report.neurons)
        print(String(format: "peak RSS: %.1f MB", Double(peakResidentBytes()) / 1e6))
    }

    /// The run's header, its rates, its collectives and their traffic.
    func printRates(_ r: BenchReport, timeSteps: Int) {
        print("\(model) \(neuron.spelling) T=\(timeSteps) b=\(b) input \(r.channels)x\(r.height)x\(r.width), \(r.ranks) process(es) × \(r.workers) worker(s), \(inference ? "inference" : "training"), \(amp ? "bf16 autocast (-amp)" : "fp32")")
        print(String(format: "samples/s: %.2f   step: %.3f s   dense-equivalent GFLOP/s: %.1f (%.2f GFLOP per sample)",
                     Double(r.samples) / r.seconds, r.seconds / Double(steps),
                     r.flopsPerSample * Double(r.samples) / r.seconds / 1e9, r.flopsPerSample / 1e9))
        print(String(format: "communication share: %.3f (%.3f s waiting in collectives on rank 0, %.3f s of it for gradient buckets after backward)",
                     r.communicationSeconds / r.seconds, r.communicationSeconds, r.exposedGradientSeconds))
        print(String(format: "reduction traffic: %.1f MB per step in %.0f collectives (rank 0)",
                     Double(r.traffic.bytesSent) / 1e6 / Double(steps), Double(r.traffic.collectives) / Double(steps)))
    }

    /// Rank 0's time by kind of work, its GEMM rate against plain sgemm, the OpenBLAS kernels.
    func printShares(_ r: BenchReport) {
        print("time share by kind of work (rank 0):")
        for (label, value) in r.workShares where value > 0 {
            print(String(format: "  %-30@ %6.1f %%  %8.3f s", label as NSString, 100 * value / r.seconds, value))
        }
        if let rate = r.gemmRatePerThread {
            // Per worker thread: the GEMM phases' rate against the same threads' plain sgemm.
            let peak = r.sgemmPeak / Double(r.workers)
            print(String(format: "GEMM phases (rank 0): %.1f GFLOP/s per worker thread = %.0f %% of the sgemm peak measured here (%.1f GFLOP/s per thread, %.1f for %d threads)",
                         rate, 100 * rate / peak, peak, r.sgemmPeak, r.workers))
        }
        print("OpenBLAS kernels: \(Gemm.coreName) (OPENBLAS_CORETYPE \(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"))")
        if let advice = Gemm.coreAdvice(core: Gemm.coreName, cpuFlags: Gemm.cpuFlags()) { print("note: " + advice) }
    }

    /// One line per rank (grouped when there are many) and the idle ranks.
    func printBusy(_ ranks: [RankBusy], steps: Int) {
        print("per rank over the timed steps (computing: wall time outside collectives; CPU: user + system time of all its threads, which includes MPI's polling while waiting):")
        for (rank, r) in ranks.enumerated() where ranks.count <= 16 || rank < 4 || rank >= ranks.count - 4 {
            print(String(format: "  rank %3d  %6.1f samples/step  computing %7.3f s  waiting %7.3f s  CPU %7.3f s",
                         rank, Double(r.samples) / Double(steps), r.computingSeconds, r.waitingSeconds, r.cpuSeconds))
            if ranks.count > 16 && rank == 3 { print("  …") }
        }
        let idle = ranks.indices.filter { ranks[$0].samples == 0 }
        let computing = ranks.map(\.computingSeconds).sorted()
        print(String(format: "  busy ranks: %d of %d; computing per rank min %.3f s, median %.3f s, max %.3f s",
                     ranks.count - idle.count, ranks.count, computing.first ?? 0, computing[computing.count / 2], computing.last ?? 0)
              + (idle.isEmpty ? "" : "; ranks without samples: \(idle)"))
    }

    /// The neuron layers' firing rates and open surrogate windows.
    func printNeurons(_ neurons: [BenchReport.NeuronActivity]) {
        // One header line: bench/compare.sh averages the second column of the rows below it.
        print("firing rates and open surrogate windows (last step, rank 0; columns: layer, firing rate, open elements, open pixels):")
        for layer in neurons {
            // Padded here: Foundation's %-24@ does not pad on Linux.
            print("  " + layer.name.padding(toLength: max(24, layer.name.count), withPad: " ", startingAt: 0)
                  + String(format: "  %6.3f", layer.firingRate)
                  + (layer.openElements.map { String(format: "   %13.3f", $0) } ?? "")
                  + (layer.openPixels.map { String(format: "   %11.3f", $0) } ?? ""))
        }
    }
}

extension Bench {
    /// Forward and backward of every neuron model on one thread, elements/s.
    func timeNeuronKernels(width: Int) {
        let count = Double(T * width)
        for model in NeuronModel.allCases {
            let seconds = NeuronKernels.time(model, timeSteps: T, width: width)
            print(String(format: "%@ T=%d × %d: forward %.1f M el/s, backward %.1f M el/s", model.rawValue, T, width,
                         count / seconds.forward / 1e6, count / seconds.backward / 1e6))
        }
    }
}
