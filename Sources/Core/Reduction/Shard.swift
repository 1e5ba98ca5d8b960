/// Which part of every global batch this process computes.
public struct Shard: Sendable, Equatable {
    public let rank: Int, size: Int
    public init(rank: Int = 0, size: Int = 1) {
        precondition(size > 0 && rank >= 0 && rank < size, "Shard: rank \(rank) of \(size)")
        self.rank = rank; self.size = size
    }

    /// The layout of a global batch of `batch` samples cut into chunks of
    /// `chunkSize`: this process takes a contiguous run of whole chunks
    /// (none when the batch has fewer chunks than there are processes).
    public func layout(batch: Int, chunkSize: Int) -> BatchLayout {
        let all = BatchLayout.chunkRanges(batch: batch, chunkSize: chunkSize)
        let first = rank * all.count / size, end = (rank + 1) * all.count / size
        guard first < end else { return BatchLayout(chunks: [], globalBatch: batch, globalOffset: batch) }
        let offset = all[first].lowerBound
        return BatchLayout(chunks: all[first..<end].map { ($0.lowerBound - offset)..<($0.upperBound - offset) },
                           globalBatch: batch, globalOffset: offset)
    }
}
