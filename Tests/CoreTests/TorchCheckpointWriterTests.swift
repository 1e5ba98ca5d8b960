import Foundation
import XCTest
@testable import Core

/// Writing `.pth` files: the pickle writer, the zip writer, and checkpoints
/// read back by the `.pth` reader (whose own fixtures torch 2.13 wrote).
final class TorchCheckpointWriterTests: XCTestCase {
    static let allowlist = Pickle.Allowlist(
        callables: [PickleGlobal("collections", "OrderedDict"), PickleGlobal("torch._utils", "_rebuild_tensor_v2")],
        names: [PickleGlobal("torch", "FloatStorage")], persistentIDs: true)

    func testPickleRoundTrip() throws {
        let value = PickleValue.dict([
            PickleEntry(key: .string("ints"), value: .list([.int(0), .int(255), .int(256), .int(65535), .int(65536),
                                                           .int(-1), .int(Int(Int32.min)), .int(1 << 40), .int(-(1 << 40)),
                                                           .int(Int.max), .int(Int.min), .int(128), .int(-129)])),
            PickleEntry(key: .string("floats"), value: .tuple([.float(0.1), .float(-2.5e-300), .float(1e8)])),
            PickleEntry(key: .string("flags"), value: .tuple([.bool(true), .bool(false), .none])),
            PickleEntry(key: .string("ünïcode ✓"), value: .bytes([0, 1, 255])),
            PickleEntry(key: .int(7), value: .tuple([])),
            PickleEntry(key: .string("ordered"), value: TorchCheckpoint.orderedDict([(.string("b"), .int(2)), (.string("a"), .int(1))])),
            PickleEntry(key: .string("storage"), value: .persistent(.tuple([.string("storage"),
                                                                           .global(PickleGlobal("torch", "FloatStorage"))]))),
        ])
        let bytes = Pickle.encode(value)
        XCTAssertEqual(Array(bytes.prefix(2)), [0x80, 2])
        XCTAssertEqual(bytes.last, 0x2E)
        XCTAssertEqual(try Pickle.parse(bytes, name: "round trip", allowing: Self.allowlist), value)
    }

    /// Stored entries at 64-byte boundaries, read back with their CRCs checked.
    func testZipEntriesAreAlignedAndReadBack() throws {
        var zip = ZipWriter()
        let payloads = [("a/data.pkl", Data([1, 2, 3])), ("a/data/0", Data((0..<1000).map { UInt8($0 % 251) })),
                        ("a/version", Data("3\n".utf8)), ("a/empty", Data())]
        for (name, bytes) in payloads { try zip.add(name, bytes) }
        let data = try zip.finished()
        let archive = try ZipArchive(data: data, name: "memory")
        XCTAssertEqual(archive.names, payloads.map { $0.0 })
        for (name, bytes) in payloads {
            XCTAssertEqual(try archive.contents(of: name), bytes, name)
            // The local header: 30 bytes, the name, the extra field; then the data.
            let start = try XCTUnwrap(localHeader(of: name, in: data), name)
            XCTAssertEqual(start % ZipWriter.alignment, 0, "\(name) starts at byte \(start)")
        }
        // A flipped payload byte fails the entry's CRC-32.
        var damaged = data
        damaged[try XCTUnwrap(localHeader(of: "a/data/0", in: data)) + 500] ^= 0xFF
        XCTAssertThrowsError(try ZipArchive(data: damaged, name: "damaged").contents(of: "a/data/0"))
        XCTAssertEqual(try ZipArchive(data: damaged, name: "damaged").contents(of: "a/version"), Data("3\n".utf8))
    }

    /// Where the data of entry `name` starts, from its local header.
    func localHeader(of name: String, in data: Data) -> Int? {
        let bytes = [UInt8](data), key = Array(name.utf8)
        for i in 0..<(bytes.count - 30) where bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 3 && bytes[i + 3] == 4 {
            let nameLength = Int(bytes[i + 26]) | Int(bytes[i + 27]) << 8, extra = Int(bytes[i + 28]) | Int(bytes[i + 29]) << 8
            if Array(bytes[(i + 30)..<(i + 30 + nameLength)]) == key { return i + 30 + nameLength + extra }
        }
        return nil
    }

    /// torch's own checkpoints (SGD and AdamW, with scheduler) written again
    /// by clif-mpi read back identical: tensors, optimiser state and settings, epoch.
    func testRewritesTorchsCheckpointsUnchanged() throws {
        for name in ["checkpoint.pth", "checkpoint_adamw.pth", "state_dict.pth"] {
            let original = try TorchCheckpoint.read(contentsOf: Fixture.root.appendingPathComponent("pth/\(name)"))
            let rewritten = try TorchCheckpoint.read(try TorchCheckpoint.pthData(original), name: "rewritten \(name)")
            XCTAssertEqual(rewritten.tensors.map { $0.name }, original.tensors.map { $0.name }, name)
            for ((_, a), (key, b)) in zip(rewritten.tensors, original.tensors) {
                XCTAssertEqual(a.type, b.type, "\(name) \(key)"); XCTAssertEqual(a.shape, b.shape, "\(name) \(key)")
                XCTAssertEqual(a.bytes, b.bytes, "\(name) \(key)")
            }
            XCTAssertEqual(rewritten.epoch, original.epoch, name)
            XCTAssertEqual(rewritten.maxTestAccuracy, original.maxTestAccuracy, name)
            XCTAssertEqual(rewritten.optimizer?.name, original.optimizer?.name, name)
            XCTAssertEqual(rewritten.optimizer?.parameters, original.optimizer?.parameters, name)
            XCTAssertEqual(rewritten.optimizer?.hyperparameters, original.optimizer?.hyperparameters, name)
            XCTAssertEqual(rewritten.optimizer?.tensors.map { "\($0.state).\($0.parameter)" },
                           original.optimizer?.tensors.map { "\($0.state).\($0.parameter)" }, name)
            for (a, b) in zip(rewritten.optimizer?.tensors ?? [], original.optimizer?.tensors ?? []) {
                XCTAssertEqual(a.tensor.bytes, b.tensor.bytes, "\(name) \(a.state).\(a.parameter)")
            }
        }
    }

    /// A clif-mpi checkpoint → .pth → read → clif-mpi checkpoint loads the
    /// same weights, buffers and momentum; the state_dict is in PyTorch's
    /// module order and the epoch in the original's numbering.
    func testClifCheckpointThroughPth() throws {
        func make(seed: UInt64) throws -> Network {
            try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                            activation: .spiking(NeuronConfig(model: .plif, surrogate: .rectangle)), seed: seed))
        }
        let source = try make(seed: 1)
        source.buffers.values[source.buffers["features.5.num_batches_tracked"]!.offset] = 40
        let sgd = SGD()
        sgd.step(parameters: &source.parameters.values, gradients: source.parameters.values.map { $0 * 0.1 })
        let state = TrainingState(epoch: 4, globalStep: 90, maxTestAccuracy: 0.75, arguments: RunArguments(), model: "spiking_cnn_small")
        let file = try SafeTensorsFile(data: Checkpoint.encode(network: source, optimizer: sgd, optimizerName: "SGD", state: state))
        let schedule = TorchCheckpoint.SchedulerState(kind: .cosine(tMax: 10), baseLearningRate: 0.1, lastEpoch: 4)
        let contents = TorchCheckpoint.contents(ofSafeTensors: file, hyperparameters: ["lr": schedule.learningRate, "momentum": 0.9])
        XCTAssertEqual(contents.tensors.map { $0.name }, [
            "features.0.weight", "features.0.bias",
            "features.1.weight", "features.1.bias", "features.1.running_mean", "features.1.running_var",
            "features.1.num_batches_tracked", "features.2.w",
            "features.4.weight", "features.4.bias",
            "features.5.weight", "features.5.bias", "features.5.running_mean", "features.5.running_var",
            "features.5.num_batches_tracked", "features.6.w",
            "classifier.weight", "classifier.bias",
        ])
        let pth = try TorchCheckpoint.pthData(contents, scheduler: schedule)
        let read = try TorchCheckpoint.read(pth, name: "written")
        XCTAssertEqual(read.epoch, 3)
        XCTAssertEqual(read.maxTestAccuracy, 0.75)
        XCTAssertEqual(read.optimizer?.name, "SGD")
        XCTAssertEqual(read.optimizer?.hyperparameters["lr"] ?? 0, 0.1 * (1 + cos(Double.pi * 0.4)) / 2, accuracy: 1e-15)
        XCTAssertEqual(read.optimizer?.hyperparameters["initial_lr"], 0.1)
        XCTAssertEqual(read.tensors.first { $0.name == "features.5.num_batches_tracked" }?.tensor.type, .i64)

        let target = try make(seed: 2)
        let restored = SGD()
        let loaded = try XCTUnwrap(try Checkpoint.load(pth, name: "written.pth", into: target, optimizer: restored))
        XCTAssertEqual(target.parameters.values, source.parameters.values)
        XCTAssertEqual(target.buffers.values, source.buffers.values)
        XCTAssertEqual(restored.state["momentum_buffer"], sgd.state["momentum_buffer"])
        XCTAssertEqual(loaded.epoch, 4)
        XCTAssertEqual(loaded.maxTestAccuracy, 0.75)
    }
}
