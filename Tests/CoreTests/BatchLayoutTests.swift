import Foundation
import XCTest
@testable import Core

/// The unit of work: one sample per reduction chunk by default, so a batch of
/// `b` samples keeps up to `b` workers busy, with the same bits for any split.
final class BatchLayoutTests: XCTestCase {
    /// Every rank count, up to well above the chunk count, covers the batch
    /// once, in order, with whole chunks, and balanced to within one chunk.
    func testShardsCoverTheBatchForAnyRankCount() {
        for (batch, chunkSamples) in [(17, 1), (128, 1), (48, 3), (10, 4), (1, 1)] {
            let chunks = BatchLayout.chunkRanges(batch: batch, chunkSize: chunkSamples)
            for ranks in 1...40 {
                let layouts = (0..<ranks).map { Shard(rank: $0, size: ranks).layout(batch: batch, chunkSize: chunkSamples) }
                var next = 0
                var held: [Range<Int>] = []
                for layout in layouts where layout.localBatch > 0 {
                    XCTAssertEqual(layout.globalOffset, next, "b \(batch) chunk \(chunkSamples), \(ranks) ranks: gap or overlap")
                    held += layout.chunks.map { ($0.lowerBound + next)..<($0.upperBound + next) }
                    next += layout.localBatch
                }
                XCTAssertEqual(held, chunks, "b \(batch) chunk \(chunkSamples), \(ranks) ranks: not the batch's chunks")
                let counts = layouts.map(\.chunkCount)
                XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1, "\(ranks) ranks: unbalanced \(counts)")
                XCTAssertEqual(counts.filter { $0 == 0 }.count, max(0, ranks - chunks.count), "idle ranks")
            }
        }
    }

    func testChunkSizeOfAFreshAndOfAResumedRun() {
        XCTAssertEqual(BatchLayout.resolveChunkSamples(requested: nil, batchSize: 128, resumed: nil).samples, 1)
        XCTAssertNil(BatchLayout.resolveChunkSamples(requested: nil, batchSize: 128, resumed: nil).note)
        XCTAssertEqual(BatchLayout.resolveChunkSamples(requested: 4, batchSize: 128, resumed: nil).samples, 4)

        var recorded = TrainingState(epoch: 1, globalStep: 9, maxTestAccuracy: 0, arguments: RunArguments(), model: "m")
        recorded.chunkSamples = 2
        let kept = BatchLayout.resolveChunkSamples(requested: nil, batchSize: 128, resumed: recorded)
        XCTAssertEqual(kept.samples, 2)
        XCTAssertNil(kept.note)
        XCTAssertNil(BatchLayout.resolveChunkSamples(requested: 2, batchSize: 128, resumed: recorded).note)
        let changed = BatchLayout.resolveChunkSamples(requested: 1, batchSize: 128, resumed: recorded)
        XCTAssertEqual(changed.samples, 1)
        XCTAssertTrue(changed.note?.contains("differ") == true, changed.note ?? "no note")

        // Written before the chunk size was recorded: the 16-chunk rule of its batch size.
        let legacy = TrainingState(epoch: 1, globalStep: 9, maxTestAccuracy: 0, arguments: RunArguments(), model: "m")
        for (batch, samples) in [(128, 8), (48, 3), (20, 2), (16, 1), (5, 1)] {
            let resolved = BatchLayout.resolveChunkSamples(requested: nil, batchSize: batch, resumed: legacy)
            XCTAssertEqual(resolved.samples, samples, "-b \(batch)")
            XCTAssertTrue(resolved.note?.contains("--chunk-samples 1") == true, resolved.note ?? "no note")
        }
        XCTAssertEqual(BatchLayout.resolveChunkSamples(requested: 1, batchSize: 128, resumed: legacy).samples, 1)
    }

    func testRankListPhrases() {
        XCTAssertEqual(RankList.phrase([4]), "rank 4")
        XCTAssertEqual(RankList.phrase([0, 1, 2, 3]), "ranks 0-3")
        XCTAssertEqual(RankList.phrase([0, 1, 2, 5]), "ranks 0-2, 5")
        XCTAssertEqual(RankList.phrase([0, 2, 4, 6], limit: 2), "ranks 0, 2, … (4 in all)")
        XCTAssertEqual(RankList.phrase([0, 2, 4, 6], limit: .max), "ranks 0, 2, 4, 6")
    }

    /// The note names the ranks `Shard` leaves without a chunk.
    func testIdleWorkersAreNamed() {
        XCTAssertNil(BatchLayout.idleWorkersNote(batchSize: 128, chunkSamples: 1, ranks: 128, threads: 1))
        XCTAssertNil(BatchLayout.idleWorkersNote(batchSize: 32, chunkSamples: 1, ranks: 2, threads: 2))
        XCTAssertNil(BatchLayout.idleWorkersNote(batchSize: 32, chunkSamples: 1, ranks: 1, threads: 32))
        let ranks = BatchLayout.idleWorkersNote(batchSize: 16, chunkSamples: 1, ranks: 24, threads: 1)
        XCTAssertTrue(ranks?.contains("ranks 0, 3, 6, 9, 12, 15, 18, 21 hold no sample") == true, ranks ?? "no note")
        let whole = BatchLayout.idleWorkersNote(batchSize: 16, chunkSamples: 64, ranks: 2, threads: 1)
        XCTAssertTrue(whole?.contains("1 chunk of 16 samples for 2 ranks: rank 0 holds no sample") == true, whole ?? "no note")
        let one = BatchLayout.idleWorkersNote(batchSize: 2, chunkSamples: 1, ranks: 3, threads: 1)
        XCTAssertTrue(one?.contains("rank 0 holds no sample") == true, one ?? "no note")
        let threads = BatchLayout.idleWorkersNote(batchSize: 128, chunkSamples: 1, ranks: 64, threads: 4)
        XCTAssertTrue(threads?.contains("2 of each rank's threads idle") == true, threads ?? "no note")
        let larger = BatchLayout.idleWorkersNote(batchSize: 128, chunkSamples: 8, ranks: 32, threads: 1)
        XCTAssertTrue(larger?.contains("--chunk-samples") == true, larger ?? "no note")
    }

    /// A checkpoint records its chunk size; one that predates it loads with
    /// none; a damaged value is refused naming the field.
    func testCheckpointRecordsTheChunkSize() throws {
        let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                                      activation: .spiking(NeuronConfig(model: .clif, surrogate: .rectangle))))
        var state = TrainingState(epoch: 2, globalStep: 30, maxTestAccuracy: 0.5, arguments: RunArguments(), model: "spiking_cnn_small")
        XCTAssertNil(try Checkpoint.load(Checkpoint.encode(network: network, optimizer: nil, optimizerName: "SGD", state: state),
                                         name: "old", into: network)?.chunkSamples)
        state.chunkSamples = 3
        let data = Checkpoint.encode(network: network, optimizer: nil, optimizerName: "SGD", state: state)
        XCTAssertEqual(try Checkpoint.load(data, name: "new", into: network)?.chunkSamples, 3)
        for bad in ["0", "x", "-", "-12"] {
            let damaged = try replacingMetadata("chunk_samples", "3", with: bad, in: data)
            XCTAssertThrowsError(try Checkpoint.load(damaged, name: "damaged.safetensors", into: network)) { error in
                XCTAssertTrue("\(error)".contains("damaged.safetensors") && "\(error)".contains("chunk_samples"), "\(error)")
            }
        }
    }

    /// A training step with 1, 20 and 33 worker threads (more than the
    /// batch's 24 chunks) gives the same gradients, loss and BatchNorm
    /// statistics bit for bit.
    func testMoreThanSixteenThreadsGiveTheSameBits() throws {
        let batch = 24
        func step(workers: Int) throws -> [Float] {
            let saved = Parallel.workers
            Parallel.configure(workers: workers)
            defer { Parallel.configure(workers: saved) }
            let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                                          activation: .spiking(NeuronConfig(model: .clif, surrogate: .rectangle)),
                                                          dropout: 0.2, seed: 5))
            let input = randomTensor([3, batch, 1, 8, 8], seed: 7, scale: 0.8, shift: 0.3)
            let labels = (0..<batch).map { $0 % 10 }
            let context = StepContext(layout: .whole(batch: batch, chunkSize: 1), reducer: LocalReducer(), training: true,
                                      timeSteps: 3)
            let result = TrainingStep.gradients(network, input: input, targets: .labels(labels), loss: LossConfig(), context: context)
            return [result.loss] + result.logits.data + network.parameters.gradients + network.buffers.values
        }
        let one = try step(workers: 1)
        XCTAssertTrue(one.allSatisfy(\.isFinite))
        for workers in [20, 33] {
            let many = try step(workers: workers)
            XCTAssertEqual(many.map(\.bitPattern), one.map(\.bitPattern), "\(workers) threads")
        }
    }
}
