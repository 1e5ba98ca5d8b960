/// Adds up per-chunk partial sums over every reduction chunk of the *global*
/// batch. Core computes partials; an implementation decides where the other
/// chunks live: `LocalReducer` (all on this process) or the MPI reducer of
/// the Distributed module. Both give identical bits (see `ExactSum`).
public protocol BatchReducer: AnyObject {
    /// `result[i] = Σ over all chunks of the global batch of partial[c, i]`,
    /// where this process holds `partials` `[chunks, count]` for its own chunks.
    func sum(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
             into result: UnsafeMutablePointer<Float>)

    /// Starts the same sum for parameter gradients and hands the totals to
    /// `deliver` no later than `finishPending()`, so a distributed reducer can
    /// overlap the communication with the rest of the backward pass. Totals
    /// are delivered in the order the sums were started. The reducer takes
    /// `partials` over (the caller no longer writes it) and may keep it until
    /// its totals are under way: no copy of a layer's partials is made.
    func sumDeferred(_ partials: ScratchBuffer, chunks: Int, count: Int, deliver: @escaping ([Float]) -> Void)

    /// Completes every deferred sum.
    func finishPending()

    /// Overwrites `values` on every process with the first process's.
    func shareFromFirstRank(_ values: inout [Float])
}

extension BatchReducer {
    public func sumDeferred(_ partials: ScratchBuffer, chunks: Int, count: Int, deliver: @escaping ([Float]) -> Void) {
        precondition(partials.count == chunks * count,
                     "BatchReducer.sumDeferred: \(partials.count) partials are not \(chunks) chunks of \(count)")
        var totals = [Float](repeating: 0, count: count)
        totals.withUnsafeMutableBufferPointer { sum(partials.pointer, chunks: chunks, count: count, into: $0.baseAddress!) }
        deliver(totals)
    }

    /// `sumDeferred` of partials in an array (`[chunks, count]`; copied).
    public func sumDeferred(_ partials: [Float], chunks: Int, count: Int, deliver: @escaping ([Float]) -> Void) {
        let buffer = ScratchBuffer(count: partials.count)
        partials.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: $0.count) }
        sumDeferred(buffer, chunks: chunks, count: count, deliver: deliver)
    }

    public func finishPending() {}

    public func shareFromFirstRank(_ values: inout [Float]) {}
}

/// The reducer of a single process that holds the whole batch.
public final class LocalReducer: BatchReducer {
    public init() {}

    public func sum(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
                    into result: UnsafeMutablePointer<Float>) {
        ExactSum.sum(partials, chunks: chunks, count: count, into: result)
    }
}

extension BatchReducer {
    /// Convenience over arrays: `partials` is `[chunks, count]`; a process
    /// that holds no chunk of this batch passes no partials and still gets
    /// the totals.
    public func sum(_ partials: [Float], chunks: Int, count: Int) -> [Float] {
        precondition(partials.count == chunks * count,
                     "BatchReducer.sum: \(partials.count) partials are not \(chunks) chunks of \(count)")
        var result = [Float](repeating: 0, count: count)
        let padded = partials.isEmpty ? [0] : partials
        padded.withUnsafeBufferPointer { p in
            result.withUnsafeMutableBufferPointer { r in
                guard let out = r.baseAddress else { return }
                sum(p.baseAddress!, chunks: chunks, count: count, into: out)
            }
        }
        return result
    }
}
