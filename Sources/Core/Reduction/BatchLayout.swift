/// How the samples this process holds are grouped into reduction chunks.
///
/// A chunk is a fixed run of consecutive samples of the global batch. Every
/// BLAS call and every fp32 partial sum covers exactly one chunk, so results
/// never depend on how many chunks a process holds: the rank count changes
/// which process computes a chunk, never what it computes.
public struct BatchLayout: Sendable, Equatable {
    /// Local sample ranges, consecutive from 0, one per chunk.
    public let chunks: [Range<Int>]
    /// Samples in the whole global batch (all processes).
    public let globalBatch: Int
    /// Position in the global batch of this process's first sample.
    public let globalOffset: Int

    /// A process may hold no chunk of a batch (a last, small batch split over
    /// many processes): it still takes part in every reduction, with nothing
    /// of its own to add.
    public init(chunks: [Range<Int>], globalBatch: Int, globalOffset: Int) {
        var next = 0
        for c in chunks {
            precondition(c.lowerBound == next && !c.isEmpty,
                         "BatchLayout: chunks \(chunks) are not consecutive non-empty ranges from 0")
            next = c.upperBound
        }
        precondition(globalOffset + next <= globalBatch,
                     "BatchLayout: local samples \(globalOffset)..<\(globalOffset + next) exceed the global batch \(globalBatch)")
        self.chunks = chunks
        self.globalBatch = globalBatch
        self.globalOffset = globalOffset
    }

    /// Splits a global batch of `batch` samples into chunks of `chunkSize`
    /// (the last one smaller when it does not divide) held by one process.
    public static func whole(batch: Int, chunkSize: Int) -> BatchLayout {
        BatchLayout(chunks: chunkRanges(batch: batch, chunkSize: chunkSize),
                    globalBatch: batch, globalOffset: 0)
    }

    /// clif-mpi's chunk size for a global batch size: 16 chunks per full
    /// batch. A function of the batch size alone, never of the process count.
    public static func chunkSize(forBatchSize batchSize: Int) -> Int {
        max(1, (batchSize + 15) / 16)
    }

    /// The chunk ranges of a global batch.
    public static func chunkRanges(batch: Int, chunkSize: Int) -> [Range<Int>] {
        precondition(batch > 0 && chunkSize > 0, "BatchLayout: batch \(batch), chunk size \(chunkSize)")
        return stride(from: 0, to: batch, by: chunkSize).map { $0..<min($0 + chunkSize, batch) }
    }

    /// Samples held here.
    public var localBatch: Int { chunks.last?.upperBound ?? 0 }
    public var chunkCount: Int { chunks.count }
}
