import Core
import Foundation

/// The figures of a `BenchMeasurement`, for the whole job (rates, FLOP) or
/// for rank 0 (time shares, collectives, traffic), as `bench` prints them.
public struct BenchReport {
    /// The input's shape, ranks, worker threads per rank, timed steps.
    public let channels: Int, height: Int, width: Int
    public let ranks: Int, workers: Int, steps: Int
    /// Wall time of the timed steps on rank 0, and the global samples they took.
    public let seconds: Double, samples: Int
    /// Dense-equivalent FLOP per sample: 2 × forward multiply-adds, × 3 for a training step.
    public let flopsPerSample: Double
    /// Rank 0's time in collectives, the part after backward, and its traffic.
    public let communicationSeconds: Double, exposedGradientSeconds: Double
    public let traffic: ReductionTraffic
    /// Rank 0's step time by kind of work (the convolutions' split under them), seconds.
    public let workShares: [(label: String, seconds: Double)]
    /// The GEMM phases' GFLOP/s per worker thread, when any ran.
    public let gemmRatePerThread: Double?
    /// Plain sgemm on the same threads, GFLOP/s.
    public let sgemmPeak: Double
    /// Every rank's busy time, indexed by rank.
    public let busy: [RankBusy]
    public let neurons: [NeuronActivity]

    /// A neuron layer over the last step on rank 0: its firing rate and, for
    /// the rectangle and triangle surrogates in training, the fractions of its
    /// elements and of its pixels (any channel) whose surrogate window was open.
    public struct NeuronActivity {
        public let name: String
        public let firingRate: Double
        public let openElements: Double?, openPixels: Double?
    }

    init(setup: BenchMeasurement.Setup, data: LoadedDataset, ranks: Int, timing: BenchMeasurement.Timing,
         reducer: MeteredReducer, sgemmPeak: Double, busy: [RankBusy], neurons: [NeuronActivity]) {
        channels = data.channels; height = data.height; width = data.width
        self.ranks = ranks; workers = Parallel.workers; steps = setup.steps
        seconds = timing.seconds; samples = timing.samples
        let perSample = Profiler.forwardMultiplyAdds / Double(timing.samples) * Double(ranks)
        flopsPerSample = 2 * perSample * (setup.inference ? 1 : 3)
        communicationSeconds = reducer.communicationSeconds
        exposedGradientSeconds = reducer.exposedGradientSeconds
        traffic = reducer.traffic
        workShares = Self.workShares(seconds: timing.seconds)
        let gemmSeconds = Profiler.busySeconds(.gemm)
        gemmRatePerThread = gemmSeconds > 0 ? Profiler.gemmFlops / gemmSeconds / 1e9 : nil
        self.sgemmPeak = sgemmPeak
        self.busy = busy
        self.neurons = neurons
    }

    /// The profiler's seconds per kind of work, the time it did not see
    /// counted as other work; the convolutions' wall time split by their
    /// worker threads' busy time (GEMM, event-driven kernels, layout copies).
    static func workShares(seconds: Double) -> [(label: String, seconds: Double)] {
        let totals = Profiler.totals
        let measured = totals.values.reduce(0, +)
        var shares: [(label: String, seconds: Double)] = []
        for kind in Profiler.Kind.allCases {
            let value = kind == .other ? (totals[.other] ?? 0) + max(0, seconds - measured) : (totals[kind] ?? 0)
            shares.append((kind.rawValue, value))
            if kind == .convolution, value > 0 {
                shares.append(("  of which GEMM", value * Profiler.convolutionShare(.gemm)))
                shares.append(("  of which event-driven kernels", value * Profiler.convolutionShare(.events)))
                shares.append(("  of which im2col/col2im/copies", value * Profiler.convolutionShare(.layout)))
            }
        }
        return shares
    }
}

/// What one rank did during the timed steps, for the per-rank busy table.
public struct RankBusy: Equatable {
    public var samples: Int
    public var cpuSeconds: Double
    /// Its own wall time of the timed steps outside collectives, and inside them.
    public var computingSeconds: Double
    public var waitingSeconds: Double

    /// Every rank's figures on every rank, indexed by rank (collective).
    public func gathered(_ communicator: Communicator) -> [RankBusy] {
        let samples = communicator.allgather(UInt64(samples))
        let seconds = [cpuSeconds, computingSeconds, waitingSeconds].map { communicator.allgather($0.bitPattern) }
        return samples.indices.map {
            RankBusy(samples: Int(samples[$0]), cpuSeconds: Double(bitPattern: seconds[0][$0]),
                     computingSeconds: Double(bitPattern: seconds[1][$0]), waitingSeconds: Double(bitPattern: seconds[2][$0]))
        }
    }
}
