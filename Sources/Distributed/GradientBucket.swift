import Core

/// Deferred gradient sums started one after another and reduced together,
/// through a chain of three non-blocking collectives:
///
/// 1. agreeing: an allreduce-max of the vector of the tensors' fixed-point
///    exponents — one exponent per tensor, exactly the one `ExactSum` picks
///    for that tensor alone (a shared exponent would round small tensors
///    more coarsely and change their bits);
/// 2. reducing: each rank adds its chunks' partials into `Int64` at those
///    exponents, the tensors laid end to end and padded to `size × block`,
///    and a reduce-scatter (`RingReduceScatter`) sums them, leaving rank `r`
///    the exact integer totals of elements `r·block ..< (r+1)·block`;
/// 3. gathering: each rank converts its own block to fp32 (`ExactSum.finish`,
///    tensor by tensor) and an allgather hands every rank all blocks.
///
/// Every integer addition is exact and every total is rounded to fp32 once,
/// at its tensor's exponent, so the totals are `LocalReducer`'s bits for any
/// rank count. On the wire: 8 bytes per element reduce-scattered and 4
/// allgathered, `(P−1)/P` of each sent per rank, against `2(P−1)/P × 8` for
/// an `Int64` allreduce.
final class GradientBucket {
    enum Stage: Int, Comparable {
        case collecting, agreeing, reducing, gathering, done

        static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }

        var next: Stage { Stage(rawValue: rawValue + 1) ?? .done }
    }

    /// The communicators of the three stages: collectives of one kind start
    /// in bucket order on every rank, but the kinds interleave differently
    /// from rank to rank (each rank moves a bucket on when its own test says
    /// so), so each kind needs its own communicator to match correctly.
    struct Channels {
        let agree: Communicator
        let scatter: Communicator
        let gather: Communicator
    }

    private struct Sum {
        /// Released once the partials are in the integers.
        let partials: ScratchBuffer?
        let chunks: Int
        let count: Int
        let offset: Int
        let deliver: ([Float]) -> Void
    }

    private(set) var stage = Stage.collecting
    /// Elements of all tensors added so far.
    private(set) var elements = 0
    private var sums: [Sum] = []
    private var exponents: [Int32] = []
    private var request: PendingReduction?
    /// Elements per rank: the padded bucket is `[size, block]`.
    private var block = 0
    private var agreed: UnsafeMutablePointer<Int32>?
    private var fixed: UnsafeMutablePointer<Int64>?
    private var owned: UnsafeMutablePointer<Int64>?
    private var totals: UnsafeMutablePointer<Float>?

    deinit {
        agreed?.deallocate()
        fixed?.deallocate()
        owned?.deallocate()
        totals?.deallocate()
    }

    var isEmpty: Bool { sums.isEmpty }

    /// Adds one tensor's partials (`[chunks, count]`; none on a rank without
    /// chunks) while the bucket is collecting.
    func add(_ partials: ScratchBuffer, chunks: Int, count: Int, deliver: @escaping ([Float]) -> Void) {
        precondition(stage == .collecting, "GradientBucket.add: the bucket is already \(stage)")
        let exponent = chunks == 0 ? ExactSum.zeroExponent
            : ExactSum.exponentOnWorkers(of: partials.pointer, count: chunks * count)
        sums.append(Sum(partials: partials, chunks: chunks, count: count, offset: elements, deliver: deliver))
        exponents.append(exponent)
        elements += count
    }

    /// Starts the exponent agreement; the bucket takes no more sums.
    func close(_ channels: Channels, traffic: inout ReductionTraffic) {
        precondition(stage == .collecting, "GradientBucket.close: the bucket is already \(stage)")
        let agreed = UnsafeMutablePointer<Int32>.allocate(capacity: max(exponents.count, 1))
        agreed.initialize(from: exponents, count: exponents.count)
        self.agreed = agreed
        request = channels.agree.startAllreduceMax(agreed, count: exponents.count)
        traffic.allreduce(bytes: 4 * exponents.count, ranks: channels.agree.size)
        stage = .agreeing
    }

    /// Whether the current stage's collective has completed; with `wait`,
    /// waits for it. False when no collective is in flight.
    func completed(wait: Bool) -> Bool {
        guard let request else { return false }
        if wait { request.wait() } else if !request.test() { return false }
        return true
    }

    /// Starts the next stage after `completed` said the current one has.
    func startNextStage(_ channels: Channels, traffic: inout ReductionTraffic) {
        request = nil
        switch stage {
        case .agreeing: startReducing(channels, traffic: &traffic)
        case .reducing: startGathering(channels, traffic: &traffic)
        case .gathering: stage = .done
        case .collecting, .done: preconditionFailure("GradientBucket.startNextStage: nothing was in flight (\(stage))")
        }
    }

    private func startReducing(_ channels: Channels, traffic: inout ReductionTraffic) {
        let ranks = channels.scatter.size
        block = (elements + ranks - 1) / ranks
        let padded = ranks * block
        let fixed = UnsafeMutablePointer<Int64>.allocate(capacity: max(padded, 1))
        fixed.initialize(repeating: 0, count: padded)
        for (t, sum) in sums.enumerated() {
            let exponent = agreed![t]
            exponents[t] = exponent
            guard exponent != ExactSum.nonFiniteExponent, exponent != ExactSum.zeroExponent, sum.chunks > 0,
                  let partials = sum.partials else { continue }
            ExactSum.accumulateOnWorkers(partials.pointer, chunks: sum.chunks, count: sum.count, exponent: exponent,
                                         into: fixed + sum.offset)
        }
        // The partials are in the integers now.
        sums = sums.map { Sum(partials: nil, chunks: $0.chunks, count: $0.count, offset: $0.offset, deliver: $0.deliver) }
        owned = .allocate(capacity: max(block, 1))
        self.fixed = fixed
        request = channels.scatter.startReduceScatterSum(fixed, block: block, into: owned!)
        traffic.scatterOrGather(bytes: 8 * padded, ranks: ranks)
        stage = .reducing
    }

    private func startGathering(_ channels: Channels, traffic: inout ReductionTraffic) {
        fixed?.deallocate()
        fixed = nil
        let ranks = channels.gather.size, first = channels.gather.rank * block
        let totals = UnsafeMutablePointer<Float>.allocate(capacity: max(ranks * block, 1))
        totals.initialize(repeating: 0, count: ranks * block)
        // This rank's block may hold the end of one tensor, whole tensors and the start of another.
        for (t, sum) in sums.enumerated() {
            let low = max(sum.offset, first), high = min(sum.offset + sum.count, first + block)
            guard low < high else { continue }
            ExactSum.finish(owned! + (low - first), count: high - low, exponent: exponents[t], into: totals + low)
        }
        self.totals = totals
        request = channels.gather.startAllgather(totals, block: block)
        traffic.scatterOrGather(bytes: 4 * ranks * block, ranks: ranks)
        stage = .gathering
    }

    /// Hands every tensor its totals, in the order the sums were added.
    func deliver() {
        precondition(stage == .done, "GradientBucket.deliver: the bucket is still \(stage)")
        for sum in sums {
            sum.deliver(Array(UnsafeBufferPointer(start: totals! + sum.offset, count: sum.count)))
        }
        sums.removeAll()
    }
}
