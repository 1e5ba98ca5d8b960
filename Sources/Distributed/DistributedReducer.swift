import Core

/// `BatchReducer` over the ranks of a communicator, giving the same bits as
/// `LocalReducer` on one process for any number of ranks: the ranks agree on
/// the fixed-point exponent (allreduce-max of one integer) and add the
/// `Int64` fixed-point partials (allreduce-sum), which is exact — see
/// `ExactSum`. Gradient sums are started with a non-blocking allreduce so
/// they travel while backward goes on through earlier layers; BatchNorm
/// statistics and the loss are summed at once because the next computation
/// needs them.
public final class DistributedReducer: BatchReducer {
    public let communicator: Communicator
    private var pending: [(request: PendingReduction, fixed: UnsafeMutablePointer<Int64>, count: Int,
                           exponent: Int32, deliver: ([Float]) -> Void)] = []
    /// Seconds spent waiting in collectives since the last `resetTimer()`.
    public private(set) var communicationSeconds: Double = 0

    public init(_ communicator: Communicator) {
        self.communicator = communicator
    }

    public func resetTimer() { communicationSeconds = 0 }

    /// The agreed exponent of everyone's partials (a rank without partials
    /// contributes the all-zero marker, the smallest value).
    private func sharedExponent(_ partials: UnsafePointer<Float>, count: Int) -> Int32 {
        var exponent = [count > 0 ? ExactSum.exponent(of: partials, count: count) : ExactSum.zeroExponent]
        timed { communicator.allreduceMax(&exponent) }
        return exponent[0]
    }

    private func timed(_ body: () -> Void) {
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        communicationSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    public func sum(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
                    into result: UnsafeMutablePointer<Float>) {
        let exponent = sharedExponent(partials, count: chunks * count)
        guard exponent != ExactSum.nonFiniteExponent, exponent != ExactSum.zeroExponent else {
            ExactSum.finish(nil, count: count, exponent: exponent, into: result)
            return
        }
        let fixed = UnsafeMutablePointer<Int64>.allocate(capacity: max(count, 1))
        defer { fixed.deallocate() }
        fixed.initialize(repeating: 0, count: count)
        if chunks > 0 { ExactSum.accumulate(partials, chunks: chunks, count: count, exponent: exponent, into: fixed) }
        timed { communicator.allreduceSum(fixed, count: count) }
        ExactSum.finish(fixed, count: count, exponent: exponent, into: result)
    }

    public func sumDeferred(_ partials: [Float], chunks: Int, count: Int, deliver: @escaping ([Float]) -> Void) {
        precondition(partials.count == chunks * count, "sumDeferred: \(partials.count) partials are not \(chunks) chunks of \(count)")
        let exponent = partials.isEmpty ? ExactSum.zeroExponent
            : partials.withUnsafeBufferPointer { ExactSum.exponent(of: $0.baseAddress!, count: $0.count) }
        var shared = [exponent]
        timed { communicator.allreduceMax(&shared) }
        let fixed = UnsafeMutablePointer<Int64>.allocate(capacity: max(count, 1))
        fixed.initialize(repeating: 0, count: count)
        let exponentAgreed = shared[0]
        if exponentAgreed != ExactSum.nonFiniteExponent && exponentAgreed != ExactSum.zeroExponent && chunks > 0 {
            partials.withUnsafeBufferPointer {
                ExactSum.accumulate($0.baseAddress!, chunks: chunks, count: count, exponent: exponentAgreed, into: fixed)
            }
        }
        let request = communicator.startAllreduceSum(fixed, count: count)
        pending.append((request, fixed, count, exponentAgreed, deliver))
    }

    public func shareFromFirstRank(_ values: inout [Float]) {
        var bytes = values.withUnsafeBytes { [UInt8]($0) }
        timed { communicator.broadcast(&bytes, root: 0) }
        values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    public func finishPending() {
        for item in pending {
            timed { item.request.wait() }
            var totals = [Float](repeating: 0, count: item.count)
            totals.withUnsafeMutableBufferPointer {
                ExactSum.finish(item.fixed, count: item.count, exponent: item.exponent, into: $0.baseAddress!)
            }
            item.fixed.deallocate()
            item.deliver(totals)
        }
        pending.removeAll()
    }
}
