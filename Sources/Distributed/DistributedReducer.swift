import Core

/// `BatchReducer` over the ranks of a communicator, giving the same bits as
/// `LocalReducer` on one process for any number of ranks: the ranks agree on
/// the fixed-point exponent (allreduce-max) and add the `Int64` fixed-point
/// partials, which is exact — see `ExactSum`.
///
/// Gradient sums (`sumDeferred`) are gathered into buckets of about
/// `bucketElements` elements in the order they are started; a full bucket
/// goes through a chain of non-blocking collectives (`GradientBucket`) that
/// every later call of the reducer during backward moves on, and so does the
/// main thread between the chunks of every `Parallel` loop (the polling
/// hook), so the traffic overlaps the rest of the backward pass;
/// `finishPending` waits for the buckets in order. BatchNorm statistics and the loss (`sum`) are summed at
/// once because the next computation needs them.
public final class DistributedReducer: BatchReducer {
    public let communicator: Communicator
    /// Elements per gradient bucket (a bucket closes at the first tensor that
    /// reaches it, so a large tensor makes a bucket of its own).
    public let bucketElements: Int
    private let channels: GradientBucket.Channels
    private var open = GradientBucket()
    /// Closed buckets, oldest first.
    private var inFlight: [GradientBucket] = []
    /// Seconds spent in collectives since the last `resetTimer()`.
    public private(set) var communicationSeconds: Double = 0
    /// The part of `communicationSeconds` spent in `finishPending`: gradient
    /// traffic that did not hide behind backward.
    public private(set) var exposedGradientSeconds: Double = 0
    /// This rank's traffic since the last `resetTraffic()`.
    public private(set) var traffic = ReductionTraffic()

    /// 1 M elements (12 MB on the wire per bucket). spiking_resnet18 starts 21
    /// gradient sums per step (11.2 M elements, the largest 2.4 M): 1 M makes
    /// 7 buckets (21 collectives instead of the 42 of one allreduce pair per
    /// tensor), 256 K makes 11 and 4 M makes 3. Larger buckets close later,
    /// so less of their traffic hides behind backward; smaller ones add
    /// latencies. Neither `mpirun -np 2 clif-mpi bench` on a shared 2-core
    /// host (step times varied 3× between repetitions, README "Benchmarks")
    /// nor the collectives alone (`bench/reduction_collectives.c`: medians
    /// 183, 216, 178 ms for 256 K, 1 M, 4 M, ranges overlapping) tell them
    /// apart, so the middle one stays until a quiet host says otherwise.
    public static let defaultBucketElements = 1 << 20

    /// Collective: every rank creates its reducer at the same point (the
    /// gradient buckets get communicators of their own).
    public init(_ communicator: Communicator, bucketElements: Int = defaultBucketElements) {
        precondition(bucketElements > 0, "DistributedReducer: bucketElements \(bucketElements)")
        self.communicator = communicator
        self.bucketElements = bucketElements
        channels = GradientBucket.Channels(agree: communicator.duplicate(), scatter: communicator.duplicate(),
                                           gather: communicator.duplicate())
        // Between the chunks a layer's backward computes, the main thread
        // moves the buckets on, so their traffic overlaps the computation
        // instead of waiting for the next layer's call of the reducer.
        // (The newest reducer's hook wins; one left behind by a freed reducer does nothing.)
        Parallel.setPollingHook { [weak self] in self?.progressIfIdle() }
    }

    /// Whether `progress` or `finishPending` is running: the polling hook
    /// must not re-enter them (a bucket's next stage and the layers' delivery
    /// closures run `Parallel` loops of their own), or it would start a stage
    /// twice or deliver a bucket again.
    private var progressing = false

    private func progressIfIdle() {
        guard !progressing, !inFlight.isEmpty else { return }
        progress()
    }

    public func resetTimer() { communicationSeconds = 0; exposedGradientSeconds = 0 }

    public func resetTraffic() { traffic = ReductionTraffic() }

    private func timed<T>(_ body: () -> T) -> T {
        let start = ContinuousClock.now
        let result = body()
        let elapsed = ContinuousClock.now - start
        communicationSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return result
    }

    public func sum(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
                    into result: UnsafeMutablePointer<Float>) {
        progress()
        // A rank without partials contributes the all-zero marker, the smallest value.
        var exponent = [chunks * count > 0 ? ExactSum.exponentOnWorkers(of: partials, count: chunks * count) : ExactSum.zeroExponent]
        timed { communicator.allreduceMax(&exponent) }
        traffic.allreduce(bytes: 4, ranks: communicator.size)
        guard exponent[0] != ExactSum.nonFiniteExponent, exponent[0] != ExactSum.zeroExponent else {
            ExactSum.finish(nil, count: count, exponent: exponent[0], into: result)
            return
        }
        let fixed = UnsafeMutablePointer<Int64>.allocate(capacity: max(count, 1))
        defer { fixed.deallocate() }
        fixed.initialize(repeating: 0, count: count)
        if chunks > 0 { ExactSum.accumulateOnWorkers(partials, chunks: chunks, count: count, exponent: exponent[0], into: fixed) }
        timed { communicator.allreduceSum(fixed, count: count) }
        traffic.allreduce(bytes: 8 * count, ranks: communicator.size)
        ExactSum.finish(fixed, count: count, exponent: exponent[0], into: result)
    }

    public func sumDeferred(_ partials: ScratchBuffer, chunks: Int, count: Int, deliver: @escaping ([Float]) -> Void) {
        precondition(partials.count == chunks * count, "sumDeferred: \(partials.count) partials are not \(chunks) chunks of \(count)")
        open.add(partials, chunks: chunks, count: count, deliver: deliver)
        if open.elements >= bucketElements { closeOpenBucket() }
        progress()
    }

    private func closeOpenBucket() {
        guard !open.isEmpty else { return }
        open.close(channels, traffic: &traffic)
        inFlight.append(open)
        open = GradientBucket()
    }

    /// Moves every bucket on as far as its completed collectives allow, and
    /// delivers the finished ones at the front. A bucket starts a stage's
    /// collective only after the bucket before it has started that stage, so
    /// each stage's collectives start in bucket order on every rank.
    private func progress() {
        progressing = true
        defer { progressing = false }
        var before = GradientBucket.Stage.done
        for bucket in inFlight {
            while bucket.stage.next <= before, timed({ bucket.completed(wait: false) }) {
                bucket.startNextStage(channels, traffic: &traffic)
            }
            before = bucket.stage
        }
        while let first = inFlight.first, first.stage == .done {
            inFlight.removeFirst()
            first.deliver()
        }
    }

    public func finishPending() {
        let before = communicationSeconds
        progressing = true
        defer {
            progressing = false
            exposedGradientSeconds += communicationSeconds - before
        }
        closeOpenBucket()
        for bucket in inFlight {
            while timed({ bucket.completed(wait: true) }) { bucket.startNextStage(channels, traffic: &traffic) }
            bucket.deliver()
        }
        inFlight.removeAll()
    }

    public func shareFromFirstRank(_ values: inout [Float]) {
        var bytes = values.withUnsafeBytes { [UInt8]($0) }
        timed { communicator.broadcast(&bytes, root: 0) }
        traffic.broadcast(bytes: bytes.count, ranks: communicator.size)
        values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
