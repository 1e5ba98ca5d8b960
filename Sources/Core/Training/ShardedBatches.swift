/// One global batch as this process computes it: its place in the run, how
/// it is cut into reduction chunks and which of them are local, and the local
/// samples prepared.
public struct ShardedBatch {
    /// Position in the sequence (0, 1, …) and the batch's index in its epoch.
    public let position: Int, index: Int
    public let layout: BatchLayout
    /// This process's samples of the batch (`layout.localBatch` of them).
    public let batch: Batch

    /// The context of a step on this batch: its layout, and whether the
    /// input is the same at every time step; the rest as `StepContext` takes it.
    public func context(reducer: BatchReducer, training: Bool, timeSteps: Int, seed: UInt64 = 2022, step: Int = 0,
                        localBatchNorm: Bool = false, observer: LayerObserver? = nil,
                        precision: Precision = .fp32) -> StepContext {
        StepContext(layout: layout, reducer: reducer, training: training, timeSteps: timeSteps, seed: seed, step: step,
                    staticInput: !batch.perStep, localBatchNorm: localBatchNorm, observer: observer,
                    precision: precision)
    }

    /// The network's `[T, N, …]` input.
    public func input(timeSteps: Int) -> Tensor { batch.networkInput(timeSteps: timeSteps) }
}

/// The sharded batch loop every command shares (training epochs, evaluation,
/// bench steps): for each listed batch of an epoch's order, the layout of
/// `shard` at `chunkSamples` and this process's samples, prepared — mixed
/// when `mixing` is given — and, with `prefetch`, one batch ahead on a
/// background thread. What a batch holds depends only on the data, the seed,
/// the epoch and the chunk size, never on the process or thread count.
public struct ShardedBatches: Sequence, Sendable {
    public let source: BatchSource
    public let epoch: Int
    /// Batch indices in the epoch, in the order they are visited.
    public let batches: [Int]
    public let shard: Shard
    public let chunkSamples: Int
    public let mixing: BatchMixing?
    public let prefetch: Bool
    private let order: [Int]

    /// `batches` nil: every batch of the epoch from `first`.
    public init(source: BatchSource, epoch: Int, batches: [Int]? = nil, from first: Int = 0, shard: Shard,
                chunkSamples: Int, mixing: BatchMixing? = nil, prefetch: Bool = false) {
        self.source = source; self.epoch = epoch; self.shard = shard; self.chunkSamples = chunkSamples
        self.mixing = mixing; self.prefetch = prefetch
        self.batches = batches ?? Array(first..<Swift.max(first, source.batchCount))
        order = source.order(epoch: epoch)
    }

    /// The dataset indices of batch `index` of the epoch (the whole global batch).
    public func indices(of index: Int) -> ArraySlice<Int> { source.indices(of: index, in: order) }

    /// The layout of batch `index` on this process.
    public func layout(of index: Int) -> BatchLayout {
        shard.layout(batch: indices(of: index).count, chunkSize: chunkSamples)
    }

    /// This process's samples of batch `index`, prepared.
    public func prepare(_ index: Int) -> Batch {
        let indices = indices(of: index), layout = layout(of: index)
        if let mixing {
            let offset = layout.globalOffset
            return source.prepareMixed(indices, local: offset..<(offset + layout.localBatch), epoch: epoch,
                                       batch: index, mixing: mixing)
        }
        return source.prepare(indices.dropFirst(layout.globalOffset).prefix(layout.localBatch), epoch: epoch)
    }

    public func makeIterator() -> Iterator { Iterator(self) }

    public struct Iterator: IteratorProtocol {
        let batches: ShardedBatches
        /// How many batches `next()` has returned.
        public private(set) var position = 0
        let prefetcher: Prefetcher?

        init(_ batches: ShardedBatches) {
            self.batches = batches
            // Keyed by position: a list may visit a batch twice (bench cycles through the epoch).
            prefetcher = batches.prefetch ? Prefetcher { [batches] in batches.prepare(batches.batches[$0]) } : nil
            if !batches.batches.isEmpty { prefetcher?.request(0) }
        }

        public mutating func next() -> ShardedBatch? {
            guard position < batches.batches.count else { return nil }
            let index = batches.batches[position]
            if position + 1 < batches.batches.count { prefetcher?.request(position + 1) }
            let batch = prefetcher?.take(position) ?? batches.prepare(index)
            defer { position += 1 }
            return ShardedBatch(position: position, index: index, layout: batches.layout(of: index), batch: batch)
        }
    }
}
