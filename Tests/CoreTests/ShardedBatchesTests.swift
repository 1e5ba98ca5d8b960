import Foundation
import XCTest
@testable import Core

/// The sharded batch loop every command shares: what each process gets of
/// every batch, for any process count, against the inline loop it replaced.
final class ShardedBatchesTests: XCTestCase {
    /// 23 synthetic samples in batches of 8 (the last one 7), shuffled and augmented.
    func source(seed: UInt64 = 5) throws -> BatchSource {
        let data = try DatasetCatalog.load("synthetic", dataDirectory: URL(fileURLWithPath: "."),
                                           synthetic: .init(channels: 2, height: 4, width: 4, classes: 3, train: 23, test: 4))
        return BatchSource(set: data.train, batchSize: 8, normalization: data.normalization,
                           augmentation: Augmentation(cropPadding: 1), shuffle: true, seed: seed)
    }

    /// Each rank's batches match the loop Trainer, Evaluation and Bench wrote
    /// inline (the epoch order, the rank's layout, its slice prepared), and
    /// the ranks' slices joined give the one-process batch.
    func testEveryRankGetsItsSliceOfTheOneProcessBatch() throws {
        let source = try source()
        let order = source.order(epoch: 3)
        let whole = Array(ShardedBatches(source: source, epoch: 3, shard: Shard(), chunkSamples: 3))
        XCTAssertEqual(whole.map(\.index), [0, 1, 2])
        for ranks in 1...3 {
            var joined = [[Float]](repeating: [], count: whole.count), labels = [[Int]](repeating: [], count: whole.count)
            for rank in 0..<ranks {
                let shard = Shard(rank: rank, size: ranks)
                for item in ShardedBatches(source: source, epoch: 3, shard: shard, chunkSamples: 3) {
                    let indices = source.indices(of: item.index, in: order)
                    let layout = shard.layout(batch: indices.count, chunkSize: 3)
                    let inline = source.prepare(indices.dropFirst(layout.globalOffset).prefix(layout.localBatch), epoch: 3)
                    XCTAssertEqual(item.layout.globalOffset, layout.globalOffset, "rank \(rank) of \(ranks), batch \(item.index)")
                    XCTAssertEqual(item.layout.localBatch, layout.localBatch, "rank \(rank) of \(ranks), batch \(item.index)")
                    XCTAssertEqual(item.batch.images.data, inline.images.data, "rank \(rank) of \(ranks), batch \(item.index)")
                    XCTAssertEqual(item.batch.labels, inline.labels)
                    joined[item.index] += item.batch.images.data
                    labels[item.index] += item.batch.labels
                }
            }
            XCTAssertEqual(joined, whole.map(\.batch.images.data), "\(ranks) ranks joined")
            XCTAssertEqual(labels, whole.map(\.batch.labels), "\(ranks) ranks joined")
        }
    }

    /// Prefetching on a background thread, starting mid-epoch, and a list
    /// that visits a batch twice give the batches prepared in place.
    func testPrefetchStartAndRepeatedBatches() throws {
        let source = try source()
        let shard = Shard(rank: 1, size: 2)
        let plain = ShardedBatches(source: source, epoch: 1, from: 1, shard: shard, chunkSamples: 2)
        let ahead = ShardedBatches(source: source, epoch: 1, from: 1, shard: shard, chunkSamples: 2, prefetch: true)
        XCTAssertEqual(plain.map(\.index), [1, 2])
        XCTAssertEqual(ahead.map(\.batch.images.data), plain.map(\.batch.images.data))
        let cycle = ShardedBatches(source: source, epoch: 1, batches: [2, 0, 2], shard: shard, chunkSamples: 2, prefetch: true)
        let items = Array(cycle)
        XCTAssertEqual(items.map(\.position), [0, 1, 2])
        XCTAssertEqual(items[0].batch.images.data, items[2].batch.images.data)
        XCTAssertEqual(items[0].batch.images.data, plain.prepare(2).images.data)
        XCTAssertTrue(Array(ShardedBatches(source: source, epoch: 1, from: 3, shard: shard, chunkSamples: 2)).isEmpty,
                      "an epoch resumed after its last batch has none left")
    }
}
