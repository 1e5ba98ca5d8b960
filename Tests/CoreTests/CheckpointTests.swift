import Foundation
import XCTest
@testable import Core

final class CheckpointTests: XCTestCase {
    func makeNetwork(seed: UInt64) throws -> Network {
        try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                        activation: .spiking(NeuronConfig(model: .plif, surrogate: .rectangle)), seed: seed))
    }

    /// Tensors come back under their PyTorch names with their values, types and
    /// the optimiser state; the training state survives in the metadata.
    func testRoundTripByPyTorchNames() throws {
        let source = try makeNetwork(seed: 1)
        source.buffers.values[source.buffers["features.1.num_batches_tracked"]!.offset] = 12
        let sgd = SGD()
        sgd.step(parameters: &source.parameters.values, gradients: source.parameters.values.map { $0 * 0.1 })
        var state = TrainingState(epoch: 3, globalStep: 70, maxTestAccuracy: 0.9, arguments: RunArguments([.init("T", .number("6"))]),
                                  model: "spiking_cnn_small")
        state.batchInEpoch = 5
        state.epochSums = [1.5, 2, 3, 4]
        let data = Checkpoint.encode(network: source, optimizer: sgd, optimizerName: "SGD", state: state)

        let file = try SafeTensorsFile(data: data)
        XCTAssertEqual(file.tensors["features.0.weight"]?.shape, [32, 1, 3, 3])
        XCTAssertEqual(file.tensors["features.1.num_batches_tracked"]?.type, .i64)
        XCTAssertEqual(file.tensors["features.1.num_batches_tracked"]?.floats, [12])
        XCTAssertEqual(file.tensors["features.2.w"]?.shape, [])
        XCTAssertNotNil(file.tensors["optimizer.momentum_buffer.classifier.weight"])

        let target = try makeNetwork(seed: 2)
        XCTAssertNotEqual(target.parameters.values, source.parameters.values)
        let restored = SGD()
        let loaded = try Checkpoint.load(data, name: "memory", into: target, optimizer: restored)
        XCTAssertEqual(loaded, state)
        XCTAssertEqual(target.parameters.values, source.parameters.values)
        XCTAssertEqual(target.buffers.values, source.buffers.values)
        XCTAssertEqual(restored.state["momentum_buffer"], sgd.state["momentum_buffer"])
        // Equal contents give equal bytes.
        XCTAssertEqual(Checkpoint.encode(network: target, optimizer: restored, optimizerName: "SGD", state: state), data)
    }

    func testAtomicWriteReplacesOrKeeps() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clif-atomic-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let target = dir.appendingPathComponent("checkpoint_latest.safetensors")
        try Checkpoint.writeAtomically(Data("old".utf8), to: target)
        try Checkpoint.writeAtomically(Data("new".utf8), to: target)
        XCTAssertEqual(try Data(contentsOf: target), Data("new".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["checkpoint_latest.safetensors"])
        // A target that cannot be replaced (a directory in the way): error, old files intact, no temporary left.
        let blocked = dir.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("inside"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try Checkpoint.writeAtomically(Data("x".utf8), to: blocked)) { error in
            XCTAssertTrue("\(error)".contains("blocked"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(),
                       ["blocked", "checkpoint_latest.safetensors"])
        // A missing folder: a clear error.
        XCTAssertThrowsError(try Checkpoint.writeAtomically(Data(), to: dir.appendingPathComponent("no/such/file")))
    }

    func testCorruptCheckpointsAreRefused() throws {
        let network = try makeNetwork(seed: 1)
        let good = Checkpoint.encode(network: network, optimizer: nil, optimizerName: "SGD",
                                     state: TrainingState(epoch: 1, globalStep: 1, maxTestAccuracy: 0, arguments: RunArguments(), model: "m"))
        for (bytes, expected) in [(good.prefix(good.count - 10), "data_offsets"), (good.prefix(4), "shorter than"),
                                  (Data([255, 255, 255, 255, 255, 255, 0, 0]) + good.dropFirst(8), "claims")] {
            XCTAssertThrowsError(try Checkpoint.load(Data(bytes), name: "ckpt.safetensors", into: network)) { error in
                XCTAssertTrue("\(error)".contains("ckpt.safetensors") && "\(error)".contains(expected), "\(error)")
            }
        }
    }
}
