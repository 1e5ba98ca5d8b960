import Foundation
import XCTest
@testable import Core

/// Which checkpoints a run writes: `checkpoint_max` only when an epoch's
/// test accuracy reaches the best so far, `checkpoint_latest` always.
final class CheckpointPolicyTests: XCTestCase {
    func report(epoch: Int, testAcc: Double, maxTestAcc: Double) -> EpochReport {
        EpochReport(epoch: epoch, lr: 0.1, trainLoss: 1, trainAcc: 0.5, testLoss: 1, testAcc: testAcc, testTop5: 1,
                    maxTestAcc: maxTestAcc, seconds: 1, samplesPerSecond: 1)
    }

    func testMaxOnlyWhenTheAccuracyReachesTheBest() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 3,
                                                      height: 8, width: 8, activation: Activation(.lif)))
        let optimizer = SGD()
        let policy = CheckpointPolicy(folder: folder, optimizerName: "SGD")
        func state(_ epoch: Int) -> TrainingState {
            TrainingState(epoch: epoch, globalStep: 10 * epoch, maxTestAccuracy: 0.5, arguments: RunArguments(), model: "spiking_cnn_small")
        }
        func epochOf(_ name: String) throws -> Int? {
            try Checkpoint.load(from: policy.url(name), into: network)?.epoch
        }
        try policy.epochEnded(report(epoch: 0, testAcc: 0.3, maxTestAcc: 0.5), network: network, optimizer: optimizer, state: state(1))
        XCTAssertEqual(try epochOf("latest"), 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: policy.url("max").path), "0.3 < 0.5 wrote checkpoint_max")

        try policy.epochEnded(report(epoch: 1, testAcc: 0.5, maxTestAcc: 0.5), network: network, optimizer: optimizer, state: state(2))
        XCTAssertEqual(try epochOf("max"), 2, "a tie with the best renews checkpoint_max")
        XCTAssertEqual(try Data(contentsOf: policy.url("max")), try Data(contentsOf: policy.url("latest")))

        try policy.epochEnded(report(epoch: 2, testAcc: 0.4, maxTestAcc: 0.5), network: network, optimizer: optimizer, state: state(3))
        XCTAssertEqual(try epochOf("latest"), 3)
        XCTAssertEqual(try epochOf("max"), 2, "0.4 < 0.5 replaced checkpoint_max")

        var stopped = state(3)
        stopped.batchInEpoch = 4
        try policy.stopped(network: network, optimizer: optimizer, state: stopped)
        XCTAssertEqual(try Checkpoint.load(from: policy.url("latest"), into: network)?.batchInEpoch, 4)
        try policy.saveInitial(network: network, state: state(0))
        XCTAssertEqual(try epochOf("0"), 0)
    }
}
