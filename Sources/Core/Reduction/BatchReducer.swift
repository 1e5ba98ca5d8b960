/// Adds up per-chunk partial sums over every reduction chunk of the *global*
/// batch. Core computes partials; an implementation decides where the other
/// chunks live: `LocalReducer` (all on this process) or the MPI reducer of
/// the Distributed module. Both give identical bits (see `ExactSum`).
public protocol BatchReducer: AnyObject {
    /// `result[i] = Σ over all chunks of the global batch of partial[c, i]`,
    /// where this process holds `partials` `[chunks, count]` for its own chunks.
    func sum(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
             into result: UnsafeMutablePointer<Float>)
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
    /// Convenience over arrays: `partials` is `[chunks, count]`.
    public func sum(_ partials: [Float], chunks: Int) -> [Float] {
        precondition(chunks > 0 && partials.count % chunks == 0,
                     "BatchReducer.sum: \(partials.count) partials do not split into \(chunks) chunks")
        let count = partials.count / chunks
        var result = [Float](repeating: 0, count: count)
        partials.withUnsafeBufferPointer { p in
            result.withUnsafeMutableBufferPointer { r in
                sum(p.baseAddress!, chunks: chunks, count: count, into: r.baseAddress!)
            }
        }
        return result
    }
}
