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
        try Job.run(job) { try arguments.measure(on: $0) }
    }

    func measure(on communicator: Communicator) throws {
        Parallel.configure(workers: threads ?? Parallel.availableCores)
        Conv2d.eventDensityLimit = Float(eventDensity)
        Conv2d.gatedDensityLimit = Float(gatedDensity)
        if let width = neuronKernels {
            timeNeuronKernels(width: width)
            return
        }
        let activation = Activation(neuron.value)
        let timeSteps = activation == .relu ? 1 : T
        let data: LoadedDataset
        if let dataset {
            data = try DatasetCatalog.load(dataset, dataDirectory: URL(fileURLWithPath: dataDir), frames: timeSteps)
        } else {
            let synthetic = DatasetCatalog.SyntheticShape(channels: input.channels, height: input.height, width: input.width, classes: classes,
                                                          train: b * (steps + warmup), test: b)
            data = try DatasetCatalog.load("synthetic", dataDirectory: URL(fileURLWithPath: "."), synthetic: synthetic)
        }
        let network = try ModelFactory.make(ModelSpec(name: model, inChannels: data.channels, classes: data.classes,
                                                      height: data.height, width: data.width, activation: activation))
        var options = TrainingOptions()
        options.timeSteps = timeSteps
        options.batchSize = b
        options.chunkSamples = chunkSamples
        if communicator.rank == 0, let note = BatchLayout.idleWorkersNote(batchSize: b, chunkSamples: chunkSamples,
                                                                         ranks: communicator.size, threads: Parallel.workers) {
            print(note)
        }
        let optimizer = options.makeOptimizer()
        let shard = Shard(rank: communicator.rank, size: communicator.size)
        let reducer = communicator.makeReducer()
        let source = BatchSource(set: data.train, batchSize: b, normalization: data.normalization,
                                 augmentation: .none, shuffle: false, seed: 1)
        let order = source.order(epoch: 0)
        let sgemmPeak = Gemm.measuredPeak(workers: Parallel.workers)
        var seconds = 0.0, samples = 0, localSamples = 0, cpuStart = 0.0
        // Counts the last step's spikes (no histograms).
        let firing = FiringMonitor(network, histogramLayers: [])
        for step in 0..<(warmup + steps) {
            let indices = source.indices(of: step % source.batchCount, in: order)
            let layout = shard.layout(batch: indices.count, chunkSize: options.chunkSamples)
            let batch = source.prepare(indices.dropFirst(layout.globalOffset).prefix(layout.localBatch), epoch: 0)
            let context = StepContext(layout: layout, reducer: reducer, training: !inference, timeSteps: timeSteps,
                                      step: step, staticInput: !batch.perStep,
                                      observer: step == warmup + steps - 1 ? firing : nil, precision: amp ? .bf16Autocast : .fp32)
            let input = batch.networkInput(timeSteps: timeSteps)
            if step == warmup {
                communicator.barrier()
                Profiler.reset()
                Profiler.enabled = true
                reducer.resetTimer()
                reducer.resetTraffic()
                cpuStart = processCPUSeconds()
            }
            let start = Date()
            if inference {
                _ = TrainingStep.evaluate(network, input: input, targets: .labels(batch.labels), loss: options.loss, context: context)
            } else {
                _ = TrainingStep.train(network, optimizer: optimizer, input: input, targets: .labels(batch.labels),
                                       loss: options.loss, context: context)
            }
            if step >= warmup {
                seconds += Date().timeIntervalSince(start)
                samples += indices.count
                localSamples += layout.localBatch
            }
        }
        Profiler.enabled = false
        let busy = RankBusy(samples: localSamples, cpuSeconds: processCPUSeconds() - cpuStart,
                            computingSeconds: seconds - reducer.communicationSeconds,
                            waitingSeconds: reducer.communicationSeconds).gathered(communicator)
        guard communicator.rank == 0 else { return }
        let perSample = Profiler.forwardMultiplyAdds / Double(samples) * Double(communicator.size)
        let flopsPerSample = 2 * perSample * (inference ? 1 : 3)
        print("\(model) \(neuron.spelling) T=\(timeSteps) b=\(b) input \(data.channels)x\(data.height)x\(data.width), \(communicator.size) process(es) × \(Parallel.workers) worker(s), \(inference ? "inference" : "training"), \(amp ? "bf16 autocast (-amp)" : "fp32")")
        print(String(format: "samples/s: %.2f   step: %.3f s   dense-equivalent GFLOP/s: %.1f (%.2f GFLOP per sample)",
                     Double(samples) / seconds, seconds / Double(steps), flopsPerSample * Double(samples) / seconds / 1e9,
                     flopsPerSample / 1e9))
        print(String(format: "communication share: %.3f (%.3f s waiting in collectives on rank 0, %.3f s of it for gradient buckets after backward)",
                     reducer.communicationSeconds / seconds, reducer.communicationSeconds,
                     reducer.exposedGradientSeconds))
        let traffic = reducer.traffic
        print(String(format: "reduction traffic: %.1f MB per step in %.0f collectives (rank 0)",
                     Double(traffic.bytesSent) / 1e6 / Double(steps), Double(traffic.collectives) / Double(steps)))
        print("time share by kind of work (rank 0):")
        let totals = Profiler.totals
        let measured = totals.values.reduce(0, +)
        func line(_ label: String, _ value: Double) {
            if value > 0 { print(String(format: "  %-30@ %6.1f %%  %8.3f s", label as NSString, 100 * value / seconds, value)) }
        }
        for kind in Profiler.Kind.allCases {
            let value = kind == .other ? (totals[.other] ?? 0) + max(0, seconds - measured) : (totals[kind] ?? 0)
            line(kind.rawValue, value)
            if kind == .convolution, value > 0 {
                // The conv wall time split by the worker threads' busy time.
                line("  of which GEMM", value * Profiler.convolutionShare(.gemm))
                line("  of which event-driven kernels", value * Profiler.convolutionShare(.events))
                line("  of which im2col/col2im/copies", value * Profiler.convolutionShare(.layout))
            }
        }
        let gemmSeconds = Profiler.busySeconds(.gemm)
        if gemmSeconds > 0 {
            // Per worker thread: the GEMM phases' rate against the same threads' plain sgemm.
            let rate = Profiler.gemmFlops / gemmSeconds / 1e9, peak = sgemmPeak / Double(Parallel.workers)
            print(String(format: "GEMM phases (rank 0): %.1f GFLOP/s per worker thread = %.0f %% of the sgemm peak measured here (%.1f GFLOP/s per thread, %.1f for %d threads)",
                         rate, 100 * rate / peak, peak, sgemmPeak, Parallel.workers))
        }
        print("OpenBLAS kernels: \(Gemm.coreName) (OPENBLAS_CORETYPE \(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"))")
        if let advice = Gemm.coreAdvice(core: Gemm.coreName, cpuFlags: Gemm.cpuFlags()) { print("note: " + advice) }
        RankBusy.report(busy, steps: steps)
        // One header line: bench/compare.sh averages the second column of the rows below it.
        print("firing rates and open surrogate windows (last step, rank 0; columns: layer, firing rate, open elements, open pixels):")
        let rates = firing.summary().firingRates
        for ((name, layer), (_, rate)) in zip(network.neurons, rates) {
            let window = layer.openWindow
            // Padded here: Foundation's %-24@ does not pad on Linux.
            print("  " + name.padding(toLength: max(24, name.count), withPad: " ", startingAt: 0)
                  + String(format: "  %6.3f", rate)
                  + (window.map { String(format: "   %13.3f", $0.elementFraction) } ?? "")
                  + (window?.pixelFraction.map { String(format: "   %11.3f", $0) } ?? ""))
        }
        print(String(format: "peak RSS: %.1f MB", Double(peakResidentBytes()) / 1e6))
    }
}

extension Bench {
    /// Forward and backward of every neuron model on one thread, elements/s.
    func timeNeuronKernels(width: Int) {
        var stream = RandomStream(seed: 1)
        let count = T * width
        let input = (0..<count).map { _ in 0.3 + 0.8 * stream.normal() }
        let gradSpikes = (0..<count).map { _ in stream.normal() }
        var spikes = [Float](repeating: 0, count: count), charged = spikes, memory = spikes, gradInput = spikes
        for model in NeuronModel.allCases {
            let config = NeuronConfig(model: model, surrogate: .rectangle)
            var forward = Double.infinity, backward = Double.infinity
            spikes.withUnsafeMutableBufferPointer { s in
                charged.withUnsafeMutableBufferPointer { h in
                    memory.withUnsafeMutableBufferPointer { m in
                        gradInput.withUnsafeMutableBufferPointer { dx in
                            let mem = model == .clif ? m.baseAddress! : nil
                            for _ in 0..<5 {
                                var start = Date()
                                NeuronKernels.forward(spikes: s.baseAddress!, charged: h.baseAddress!, memory: mem,
                                                      input: input, timeSteps: T, width: width, columns: 0..<width,
                                                      config: config, decay: 0.5)
                                forward = min(forward, Date().timeIntervalSince(start))
                                start = Date()
                                _ = NeuronKernels.backward(gradInput: dx.baseAddress!, gradSpikes: gradSpikes,
                                                           charged: h.baseAddress!, memory: mem.map { UnsafePointer($0) },
                                                           timeSteps: T, width: width, columns: 0..<width,
                                                           config: config, decay: 0.5)
                                backward = min(backward, Date().timeIntervalSince(start))
                            }
                        }
                    }
                }
            }
            print(String(format: "%@ T=%d × %d: forward %.1f M el/s, backward %.1f M el/s", model.rawValue, T, width,
                         Double(count) / forward / 1e6, Double(count) / backward / 1e6))
        }
    }
}

/// What one rank did during the timed steps, for the per-rank busy table.
struct RankBusy {
    var samples: Int
    var cpuSeconds: Double
    /// Its own wall time of the timed steps outside collectives, and inside them.
    var computingSeconds: Double
    var waitingSeconds: Double

    /// Every rank's figures on every rank, indexed by rank.
    func gathered(_ communicator: Communicator) -> [RankBusy] {
        let samples = communicator.allgather(UInt64(samples))
        let seconds = [cpuSeconds, computingSeconds, waitingSeconds].map { communicator.allgather($0.bitPattern) }
        return samples.indices.map {
            RankBusy(samples: Int(samples[$0]), cpuSeconds: Double(bitPattern: seconds[0][$0]),
                     computingSeconds: Double(bitPattern: seconds[1][$0]), waitingSeconds: Double(bitPattern: seconds[2][$0]))
        }
    }

    /// Prints one line per rank (grouped when there are many) and the idle ranks.
    static func report(_ ranks: [RankBusy], steps: Int) {
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
}

/// User + system CPU time of this process so far (all threads).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The process's peak resident set size (getrusage, kilobytes on Linux).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
