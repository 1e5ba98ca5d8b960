import Foundation
import XCTest
@testable import Core

/// Where a resumed run continues in its epoch, for any batch size and split,
/// and what a checkpoint's training state may hold.
final class ResumePositionTests: XCTestCase {
    func state(batchInEpoch: Int, batchSize: Int?, arguments: String = "Namespace()") -> TrainingState {
        var state = TrainingState(epoch: 2, globalStep: 60, maxTestAccuracy: 0.1, arguments: RunArguments(namespace: arguments),
                                  model: "m")
        state.batchInEpoch = batchInEpoch
        state.batchSize = batchSize
        return state
    }

    func testSameBatchSizeContinuesAtTheNextBatch() throws {
        var s = state(batchInEpoch: 60, batchSize: 16)
        XCTAssertNil(try s.continueEpoch(batchSize: 16, trainingSamples: 1433, batches: 90, checkpoint: "c"))
        XCTAssertEqual(s.batchInEpoch, 60)
        var start = state(batchInEpoch: 0, batchSize: 64)
        XCTAssertEqual(try start.continueEpoch(batchSize: 128, trainingSamples: 1433, batches: 12, checkpoint: "c"),
                       "-b 128 differs from the checkpoint's 64: epoch 2 starts at its first sample, 12 batches at -b 128")
        XCTAssertEqual(start.batchInEpoch, 0, "an epoch boundary is one for any batch size")
        var same = state(batchInEpoch: 0, batchSize: 64)
        XCTAssertNil(try same.continueEpoch(batchSize: 64, trainingSamples: 1433, batches: 23, checkpoint: "c"))
    }

    /// The case: stopped at batch 60 of -b 16 (sample 960), resumed at
    /// -b 128: batch 8 of 12 starts at sample 896, so 64 samples run again.
    func testAnotherBatchSizeContinuesAtTheSamplePosition() throws {
        var larger = state(batchInEpoch: 60, batchSize: 16)
        let note = try XCTUnwrap(try larger.continueEpoch(batchSize: 128, trainingSamples: 1433, batches: 12, checkpoint: "c"))
        XCTAssertEqual(larger.batchInEpoch, 7)
        XCTAssertTrue(note.contains("sample 960") && note.contains("batch 8 of 12") && note.contains("first 64 samples"), note)

        var smaller = state(batchInEpoch: 3, batchSize: 128)
        let aligned = try XCTUnwrap(try smaller.continueEpoch(batchSize: 32, trainingSamples: 1433, batches: 45, checkpoint: "c"))
        XCTAssertEqual(smaller.batchInEpoch, 12)
        XCTAssertFalse(aligned.contains("trained again"), aligned)

        // Dropping the incomplete last batch can leave nothing of the epoch.
        var dropped = state(batchInEpoch: 44, batchSize: 32)
        _ = try dropped.continueEpoch(batchSize: 100, trainingSamples: 1433, batches: 14, checkpoint: "c")
        XCTAssertEqual(dropped.batchInEpoch, 14)
    }

    func testAPositionPastTheSplitIsRefused() {
        for (batch, size) in [(90, 16), (Int.max / 2, 4)] {
            var s = state(batchInEpoch: batch, batchSize: size)
            XCTAssertThrowsError(try s.continueEpoch(batchSize: 128, trainingSamples: 1433, batches: 12, checkpoint: "old.safetensors")) {
                XCTAssertTrue("\($0)".contains("old.safetensors") && "\($0)".contains("past the end"), "\($0)")
            }
        }
    }

    func testOlderCheckpointsGiveTheirBatchSizeThroughTheArguments() {
        let namespace = "Namespace(T=4, T_max=1, amp=False, b=48, cutupmix_auto=False, loss_lambda=0.05, lr=0.1)"
        XCTAssertEqual(state(batchInEpoch: 1, batchSize: nil, arguments: namespace).recordedBatchSize, 48)
        XCTAssertEqual(state(batchInEpoch: 1, batchSize: 7, arguments: namespace).recordedBatchSize, 7)
        XCTAssertNil(state(batchInEpoch: 1, batchSize: nil, arguments: "Namespace(T=4, loss_lamb=0.1)").recordedBatchSize)
        XCTAssertEqual(state(batchInEpoch: 1, batchSize: nil, arguments: "Namespace(b=3)").recordedBatchSize, 3)
    }

    /// Values no run writes are refused with the file and the field named.
    func testDamagedTrainingStateIsRefused() throws {
        let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                                      activation: .spiking(NeuronConfig(model: .lif, surrogate: .rectangle))))
        var good = state(batchInEpoch: 5, batchSize: 16)
        good.epochSums = [1, 2, 3, 4]
        let data = Checkpoint.encode(network: network, optimizer: nil, optimizerName: "SGD", state: good)
        XCTAssertEqual(try Checkpoint.load(data, name: "x", into: network), good)
        for (field, value, bad) in [("epoch", "2", "-1"), ("global_step", "60", "-6"), ("batch_in_epoch", "5", "-5"),
                                    ("batch_size", "16", "0"), ("max_test_acc", "0.1", "nan"),
                                    ("epoch_sums", "1.0,2.0,3.0,4.0", "1.0,2.0,inf,4.0")] {
            let damaged = try replacingMetadata(field, value, with: bad, in: data)
            XCTAssertThrowsError(try Checkpoint.load(damaged, name: "damaged.safetensors", into: network), field) {
                XCTAssertTrue("\($0)".contains("damaged.safetensors") && "\($0)".contains(field), "\($0)")
            }
        }
    }

    /// Settings that differ from the checkpoint's run: named in one note and
    /// continued with this run's value; another dataset is refused.
    func testResumeWithOtherSettings() throws {
        let recorded = RunArguments(namespace: "Namespace(T=4, b=64, dataset='digits', lr=0.1, name='a', opt='SGD', tau=2.0)")
        func run(_ text: String) -> RunArguments { RunArguments(namespace: text) }
        XCTAssertNil(try run("Namespace(T=4, b=16, dataset='digits', lr=0.10, name='b', opt='SGD', tau=2)")
                        .resumeNote(continuing: recorded, checkpoint: "c.safetensors"),
                     "the same settings written otherwise (b, name and number spelling aside) need no note")
        let note = try run("Namespace(T=2, b=64, dataset='digits', lr=0.1, opt='AdamW', tau=2.0, extra=1)")
            .resumeNote(continuing: recorded, checkpoint: "c.safetensors")
        XCTAssertEqual(note, "-resume continues with this run's settings where they differ from the checkpoint's: -T 2 (the checkpoint's run: 4), -opt AdamW (the checkpoint's run: SGD; the optimiser's state starts afresh)")
        XCTAssertNil(try run("Namespace(T=2)").resumeNote(continuing: RunArguments(), checkpoint: "c.pth"),
                     "a checkpoint that records no arguments (a .pth) has nothing to compare")
        XCTAssertThrowsError(try run("Namespace(T=4, dataset='fashion_mnist')").resumeNote(continuing: recorded, checkpoint: "c.safetensors")) {
            XCTAssertEqual("\($0)", "c.safetensors: its run trained on -dataset digits, this one asks for fashion_mnist; resume with -dataset digits, or start from its weights with -pre_train")
        }
    }
}

