import Foundation

/// Where a training step spends its time, by kind of work, for
/// `clif-mpi bench`. Off unless `enabled`; layers time whole calls on the
/// calling thread, so the shares add up to the step's wall time.
public enum Profiler {
    public enum Kind: String, CaseIterable, Sendable {
        case convolution = "conv", linear = "linear (GEMM)", neuron = "neuron kernels"
        case batchNorm = "BatchNorm", pooling = "pooling", loss = "loss", communication = "reduction/communication"
        case other = "other"
    }

    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var seconds: [Kind: Double] = [:]

    /// Times `body` under `kind` when profiling is on.
    @inline(__always)
    public static func measure<R>(_ kind: Kind, _ body: () throws -> R) rethrows -> R {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { seconds[kind, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
        return try body()
    }

    /// Work inside a convolution, timed on the worker threads: its wall time
    /// is split between GEMM, the event-driven kernels and the rest (im2col,
    /// col2im, layout copies) in proportion to the threads' busy time in each.
    public enum Part: Int, CaseIterable, Sendable { case gemm, events, layout }

    nonisolated(unsafe) private static var partSeconds: [Double] = [0, 0, 0]
    private static let partLock = NSLock()

    /// Times `body` as `part` of a convolution (thread-safe).
    @inline(__always)
    public static func measure<R>(part: Part, _ body: () throws -> R) rethrows -> R {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            partLock.lock(); partSeconds[part.rawValue] += elapsed; partLock.unlock()
        }
        return try body()
    }

    /// Worker-thread seconds spent in `part` since the last reset.
    public static func busySeconds(_ part: Part) -> Double {
        partLock.lock(); defer { partLock.unlock() }
        return partSeconds[part.rawValue]
    }

    nonisolated(unsafe) private static var gemmOperations: Double = 0

    /// Records the floating-point operations (2·m·n·k) of one GEMM (thread-safe).
    @inline(__always)
    public static func count(gemmFlops n: Int) {
        guard enabled else { return }
        partLock.lock(); gemmOperations += Double(n); partLock.unlock()
    }

    /// GEMM floating-point operations since the last reset.
    public static var gemmFlops: Double { gemmOperations }

    /// The share of the convolutions' busy time spent in `part` (0 when nothing was timed).
    public static func convolutionShare(_ part: Part) -> Double {
        let total = partSeconds.reduce(0, +)
        return total > 0 ? partSeconds[part.rawValue] / total : 0
    }

    nonisolated(unsafe) private static var multiplyAdds: Double = 0

    /// Records dense multiply-adds of a forward product (conv, linear).
    @inline(__always)
    public static func count(multiplyAdds n: Int) {
        if enabled { multiplyAdds += Double(n) }
    }

    /// Seconds per kind since the last reset.
    public static var totals: [Kind: Double] { seconds }
    /// Dense forward multiply-adds since the last reset.
    public static var forwardMultiplyAdds: Double { multiplyAdds }

    public static func reset() {
        seconds = [:]
        partSeconds = [0, 0, 0]
        multiplyAdds = 0
        gemmOperations = 0
    }
}
