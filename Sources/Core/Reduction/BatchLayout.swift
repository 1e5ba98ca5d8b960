/// How the samples this process holds are grouped into reduction chunks.
///
/// A chunk (the work unit) is a fixed run of consecutive samples of the
/// global batch — one sample by default. Every BLAS call and every fp32
/// partial sum covers exactly one chunk, so results never depend on how many
/// chunks a process holds: the rank and thread counts change which worker
/// computes a chunk, never what it computes. Ranks take contiguous runs of
/// whole chunks (`Shard`), threads take chunks of their rank.
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

    /// Samples per reduction chunk unless a run says otherwise: one, so a
    /// batch of `b` samples keeps up to `b` workers (ranks × threads) busy.
    /// A constant, never a function of the process or thread count.
    public static let defaultChunkSamples = 1

    /// The rule of checkpoints written before the chunk size was recorded:
    /// 16 chunks per full batch. A resumed run that should continue exactly
    /// keeps it (see `TrainingState.chunkSamples`).
    public static func legacyChunkSamples(forBatchSize batchSize: Int) -> Int {
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

extension BatchLayout {
    /// The chunk size a run uses and, when it is worth saying, why.
    ///
    /// A run started afresh takes `requested` or the default (one sample).
    /// A resumed run keeps the size its checkpoint records (or, for a
    /// checkpoint written before it was recorded, the legacy rule of 16 chunks
    /// per batch), so it continues exactly as an uninterrupted run would;
    /// `requested` overrides that, and the note says the bits then differ.
    public static func resolveChunkSamples(requested: Int?, batchSize: Int, resumed: TrainingState?)
        -> (samples: Int, note: String?) {
        guard let resumed else { return (requested ?? defaultChunkSamples, nil) }
        let recorded = resumed.chunkSamples
        let kept = recorded ?? legacyChunkSamples(forBatchSize: batchSize)
        let origin = recorded == nil
            ? "the checkpoint predates recorded chunk sizes; its rule was 16 chunks per batch, \(kept) sample\(kept == 1 ? "" : "s") per chunk at -b \(batchSize)"
            : "the checkpoint's chunk size is \(kept) sample\(kept == 1 ? "" : "s")"
        if let requested, requested != kept {
            return (requested, "--chunk-samples \(requested): \(origin); the resumed run uses \(requested), so its last bits differ from an uninterrupted run's")
        }
        if recorded == nil {
            return (kept, "\(origin): kept so the run continues exactly (--chunk-samples 1 lets up to -b workers share a batch)")
        }
        return (kept, nil)
    }

    /// A note when a full batch has fewer chunks than a job has workers:
    /// legal (an idle rank still takes part in every sum, an idle thread
    /// waits) but worth saying; nil when every worker has a chunk.
    public static func idleWorkersNote(batchSize: Int, chunkSamples: Int, ranks: Int, threads: Int) -> String? {
        let chunks = (batchSize + chunkSamples - 1) / chunkSamples
        let remedy = chunkSamples > 1 ? "a smaller --chunk-samples or a larger -b" : "a larger -b"
        if ranks > chunks {
            // Which ranks those are is `Shard`'s choice (it spreads the chunks over the ranks).
            let idle = (0..<ranks).filter { Shard(rank: $0, size: ranks).layout(batch: batchSize, chunkSize: chunkSamples).chunkCount == 0 }
            let held = min(chunkSamples, batchSize)
            let verb = idle.count == 1 ? "holds no sample and only takes part" : "hold no sample and only take part"
            return "note: -b \(batchSize) makes \(chunks) chunk\(chunks == 1 ? "" : "s") of \(held) sample\(held == 1 ? "" : "s") for \(ranks) ranks: \(RankList.phrase(idle)) \(verb) in the sums (\(remedy) gives them work)"
        }
        let perRank = (chunks + ranks - 1) / ranks
        if threads > perRank {
            return "note: \(threads) threads per rank for at most \(perRank) chunk\(perRank == 1 ? "" : "s") per rank: \(threads - perRank) of each rank's threads idle in the per-chunk work (\(remedy) gives them work)"
        }
        return nil
    }
}
