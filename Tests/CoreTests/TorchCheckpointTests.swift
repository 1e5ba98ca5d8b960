import Foundation
import XCTest
@testable import Core

/// `.pth` fixtures written by tools/make_pth_fixtures.py with torch 2.13;
/// each `<name>.expected.safetensors` holds the same tensors, contiguous.
final class TorchCheckpointTests: XCTestCase {
    func url(_ name: String) -> URL { Fixture.root.appendingPathComponent("pth/\(name)") }

    func expected(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: url("\(name).expected.safetensors"))
    }

    /// TinyNet's state_dict order: parameters and BatchNorm buffers interleaved.
    let stateDictNames = [
        "features.0.weight",
        "features.1.weight", "features.1.bias", "features.1.running_mean", "features.1.running_var",
        "features.1.num_batches_tracked", "features.2.w",
        "features.3.weight", "features.3.bias",
        "features.4.weight", "features.4.bias", "features.4.running_mean", "features.4.running_var",
        "features.4.num_batches_tracked", "features.5.w",
        "classifier.weight", "classifier.bias",
    ]
    var parameterNames: [String] { stateDictNames.filter { !TorchCheckpoint.isBuffer($0) } }

    /// Type, shape and every byte equal.
    func assertSame(_ actual: SafeTensor?, _ expected: SafeTensor?, _ what: String,
                    file: StaticString = #filePath, line: UInt = #line) {
        guard let actual, let expected else {
            return XCTFail("\(what): missing (read \(actual != nil), expected \(expected != nil))", file: file, line: line)
        }
        XCTAssertEqual(actual.type, expected.type, "\(what): type", file: file, line: line)
        XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
        XCTAssertEqual(actual.bytes, expected.bytes, "\(what): values", file: file, line: line)
    }

    func assertNetMatches(_ contents: TorchCheckpointContents, _ expected: SafeTensorsFile,
                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(contents.tensors.count, expected.names.filter { $0.hasPrefix("net.") }.count,
                       "tensor count", file: file, line: line)
        for (name, tensor) in contents.tensors {
            assertSame(tensor, expected.tensors["net.\(name)"], name, file: file, line: line)
        }
    }

    /// A safetensors file whose header length's low byte is 0x80 (one in 32
    /// header lengths) is not taken for a legacy torch pickle: a checkpoint of
    /// exactly that size failed to resume once.
    func testSafeTensorsStartingWith0x80IsNotAPickle() throws {
        var lowBytes: Set<UInt8> = []
        for padding in 0..<64 {
            var writer = SafeTensorsWriter()
            writer.add("w", shape: [2], floats: [1, 2])
            writer.metadata = ["padding": String(repeating: "x", count: padding)]
            let data = writer.data()
            lowBytes.insert(data[0])
            XCTAssertFalse(TorchCheckpoint.isTorchFile(data), "header length \(data[0]) taken for torch")
            XCTAssertEqual(try SafeTensorsFile(data: data).tensors["w"]?.floats, [1, 2])
        }
        XCTAssertTrue(lowBytes.contains(0x80), "no header length with low byte 0x80 was tried")
        let legacy = Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19])
        XCTAssertTrue(TorchCheckpoint.isTorchFile(legacy))
    }

    func testReadsTheOriginalsCheckpointWithSGD() throws {
        let contents = try TorchCheckpoint.read(contentsOf: url("checkpoint.pth"))
        let expected = try expected("checkpoint")
        XCTAssertEqual(contents.tensors.map(\.name), stateDictNames)
        assertNetMatches(contents, expected)
        XCTAssertEqual(contents.tensor("features.2.w")?.shape, [])
        XCTAssertEqual(contents.tensor("features.1.num_batches_tracked")?.type, .i64)
        XCTAssertEqual(contents.tensor("features.1.num_batches_tracked")?.int64s, [1])
        XCTAssertEqual(contents.epoch, 4)
        XCTAssertEqual(contents.maxTestAccuracy, 0.625)

        let optimizer = try XCTUnwrap(contents.optimizer)
        XCTAssertEqual(optimizer.name, "SGD")
        XCTAssertEqual(optimizer.parameters, parameterNames)
        XCTAssertEqual(optimizer.hyperparameters["momentum"], 0.9)
        XCTAssertEqual(optimizer.hyperparameters["weight_decay"], 5e-4)
        // CosineAnnealingLR(T_max=10) after one step: 0.1·(1 + cos(π/10))/2.
        XCTAssertEqual(try XCTUnwrap(optimizer.hyperparameters["lr"]), 0.1 * (1 + cos(Double.pi / 10)) / 2, accuracy: 1e-15)
        XCTAssertEqual(optimizer.tensors.map(\.parameter), parameterNames)
        XCTAssertEqual(optimizer.tensors.count, expected.names.filter { $0.hasPrefix("optimizer.") }.count)
        for (state, parameter, tensor) in optimizer.tensors {
            XCTAssertEqual(state, "momentum_buffer")
            assertSame(tensor, expected.tensors["optimizer.\(state).\(parameter)"], "\(state).\(parameter)")
        }
        XCTAssertTrue(optimizer.scalars.isEmpty)
    }

    func testReadsAdamWState() throws {
        let contents = try TorchCheckpoint.read(contentsOf: url("checkpoint_adamw.pth"))
        let expected = try expected("checkpoint_adamw")
        assertNetMatches(contents, expected)
        XCTAssertEqual(contents.epoch, 7)
        XCTAssertEqual(contents.maxTestAccuracy, 0.875)
        let optimizer = try XCTUnwrap(contents.optimizer)
        XCTAssertEqual(optimizer.name, "AdamW")
        XCTAssertEqual(optimizer.hyperparameters["beta2"], 0.999)
        XCTAssertEqual(optimizer.hyperparameters["eps"], 1e-8)
        XCTAssertEqual(optimizer.tensors.count, 3 * parameterNames.count)
        XCTAssertEqual(optimizer.tensors.count, expected.names.filter { $0.hasPrefix("optimizer.") }.count)
        for (state, parameter, tensor) in optimizer.tensors {
            assertSame(tensor, expected.tensors["optimizer.\(state).\(parameter)"], "\(state).\(parameter)")
        }
        let steps = optimizer.tensors.filter { $0.state == "step" }.map(\.tensor)
        XCTAssertEqual(steps.count, parameterNames.count)
        XCTAssertTrue(steps.allSatisfy { $0.shape == [] && $0.doubles == [2] })
    }

    func testReadsABareStateDict() throws {
        let contents = try TorchCheckpoint.read(contentsOf: url("state_dict.pth"))
        XCTAssertEqual(contents.tensors.map(\.name), stateDictNames)
        assertNetMatches(contents, try expected("state_dict"))
        XCTAssertNil(contents.epoch)
        XCTAssertNil(contents.maxTestAccuracy)
        XCTAssertNil(contents.optimizer)
    }

    /// Transposed, sliced, expanded (stride 0) and offset views, a shared
    /// storage, and every supported dtype, gathered to contiguous bytes.
    func testGathersViewsAndDtypes() throws {
        let contents = try TorchCheckpoint.read(contentsOf: url("views.pth"))
        let expected = try expected("views")
        assertNetMatches(contents, expected)
        XCTAssertEqual(contents.tensors.map(\.name), ["transposed", "sliced", "row", "base", "scalar", "float64",
                                                      "int64", "int32", "uint8", "bool", "expanded"])
        XCTAssertEqual(contents.tensor("int64")?.int64s, [-3, 7, 1 << 40, 0])
        XCTAssertEqual(contents.tensor("expanded")?.floats, [1.5, -2.5, 1.5, -2.5, 1.5, -2.5])
        XCTAssertEqual(contents.tensor("transposed")?.shape, [6, 4])
        XCTAssertEqual(contents.tensor("bool")?.type, .bool)
        XCTAssertEqual(contents.epoch, 0)
    }

    // MARK: - Refusals

    func assertRefuses(_ fixture: String, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        assertRefuses(data: (try? Data(contentsOf: url(fixture))) ?? Data(), name: url(fixture).path,
                      [fixture] + parts, file: file, line: line)
    }

    func assertRefuses(data: Data, name: String, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(data.isEmpty, "fixture \(name) is missing", file: file, line: line)
        do {
            let contents = try TorchCheckpoint.read(data, name: name)
            XCTFail("\(name) was accepted with \(contents.tensors.count) tensors", file: file, line: line)
        } catch let error as CheckpointError {
            for part in parts {
                XCTAssertTrue(error.description.contains(part), "'\(part)' not in: \(error.description)", file: file, line: line)
            }
        } catch {
            XCTFail("\(name): unexpected error type \(error)", file: file, line: line)
        }
    }

    func testRefusesPicklesThatCallForeignGlobals() {
        assertRefuses("evil_os_system.pth", ["archive/data.pkl", "os.system", "Only plain state_dict checkpoints",
                                             "nothing in the file was executed"])
        assertRefuses("evil_builtins_eval.pth", ["builtins.eval", "Only plain state_dict checkpoints"])
    }

    func testRefusesBrokenArchives() {
        assertRefuses("truncated.pth", ["end-of-central-directory", "truncated"])
        assertRefuses("missing_storage.pth", ["refers to storage 0", "no entry state_dict/data/0"])
        assertRefuses("short_storage.pth", ["storage 0 of 27 F32 elements (108 bytes)", "holds 4 bytes"])
        assertRefuses("big_endian.pth", ["big-endian", "little-endian"])
        assertRefuses("deflated.pth", ["state_dict/data.pkl is compressed (method 8)"])
        assertRefuses("legacy.pth", ["legacy format", "torch.save"])
        assertRefuses(data: Data("not a checkpoint".utf8), name: "text.pth", ["text.pth", "not a PyTorch checkpoint"])
    }

    /// Damaged copies of a checkpoint are refused or read unchanged, never a
    /// crash and never silently different values: every third byte flipped
    /// (flips in tensor bytes fail the CRC-32; flips in fields the reader
    /// does not use — timestamps, unread entries — change nothing), and
    /// truncations on a coarse grid.
    func testDamagedArchivesAreRefusedOrReadUnchanged() throws {
        let data = try Data(contentsOf: url("state_dict.pth"))
        let original = try TorchCheckpoint.read(data, name: "state_dict.pth")
        var refused = 0
        for index in stride(from: 0, to: data.count, by: 3) {
            var copy = data
            copy[index] ^= 0xFF
            guard let contents = try? TorchCheckpoint.read(copy, name: "flipped.pth") else { refused += 1; continue }
            XCTAssertEqual(contents.tensors.map(\.name), original.tensors.map(\.name), "byte \(index)")
            XCTAssertEqual(contents.tensors.map(\.tensor.bytes), original.tensors.map(\.tensor.bytes), "byte \(index)")
        }
        XCTAssertGreaterThan(refused, data.count / 6, "too few damaged copies refused")
        for length in stride(from: 0, to: data.count, by: 97) {
            XCTAssertThrowsError(try TorchCheckpoint.read(data.prefix(length), name: "cut.pth"))
        }
    }

    // MARK: - Conversion

    func testConvertsToAClifCheckpoint() throws {
        let contents = try TorchCheckpoint.read(contentsOf: url("checkpoint.pth"))
        let file = try SafeTensorsFile(data: TorchCheckpoint.safetensorsData(contents, model: "tiny", arguments: RunArguments([.init("T", .number("6"))])))
        let expected = try expected("checkpoint")
        for name in stateDictNames {
            let tensor = try XCTUnwrap(file.tensors[name], name)
            let original = try XCTUnwrap(expected.tensors["net.\(name)"])
            XCTAssertEqual(tensor.type, name.hasSuffix("num_batches_tracked") ? .i64 : .f32, name)
            XCTAssertEqual(tensor.bytes, original.bytes, name)
        }
        for name in parameterNames {
            XCTAssertEqual(file.tensors["optimizer.momentum_buffer.\(name)"]?.bytes,
                           expected.tensors["optimizer.momentum_buffer.\(name)"]?.bytes, name)
        }
        XCTAssertEqual(file.names.count, stateDictNames.count + parameterNames.count)
        XCTAssertEqual(file.metadata["format"], Checkpoint.format)
        XCTAssertEqual(file.metadata["epoch"], "5", "the original's epoch 4 is the 5th completed")
        XCTAssertEqual(file.metadata["max_test_acc"], "0.625")
        XCTAssertEqual(file.metadata["global_step"], "0")
        XCTAssertEqual(file.metadata["optimizer"], "SGD")
        XCTAssertEqual(file.metadata["arguments"], #"{"format":"clif-mpi-arguments/1","values":{"T":6}}"#)
        XCTAssertEqual(file.metadata["model"], "tiny")

        let adamw = try SafeTensorsFile(data: TorchCheckpoint.safetensorsData(
            TorchCheckpoint.read(contentsOf: url("checkpoint_adamw.pth"))))
        XCTAssertEqual(adamw.metadata["optimizer_scalars"], "step=2.0")
        XCTAssertEqual(adamw.metadata["global_step"], "2")
        XCTAssertNotNil(adamw.tensors["optimizer.exp_avg_sq.classifier.weight"])
        XCTAssertNil(adamw.tensors["optimizer.step.classifier.weight"])

        let bare = try SafeTensorsFile(data: TorchCheckpoint.safetensorsData(
            TorchCheckpoint.read(contentsOf: url("state_dict.pth"))))
        XCTAssertNil(bare.metadata["epoch"], "a bare state_dict carries no training state")
        XCTAssertEqual(bare.names.count, stateDictNames.count)
    }

    /// A `.pth` of a clif-mpi model (its tensors under the same names) converts
    /// into a checkpoint that `Checkpoint.load` restores whole: weights,
    /// buffers, SGD momentum and the training state.
    func testConversionLoadsIntoAModelFactoryNetwork() throws {
        func make(seed: UInt64) throws -> Network {
            try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                            activation: .spiking(NeuronConfig(model: .plif, surrogate: .rectangle)),
                                            seed: seed))
        }
        func tensor(_ values: [Float], _ shape: [Int], integer: Bool = false) -> SafeTensor {
            var writer = SafeTensorsWriter()
            if integer { writer.add("t", shape: shape, int64s: values.map { Int64($0) }) } else { writer.add("t", shape: shape, floats: values) }
            return try! SafeTensorsFile(data: writer.data()).tensors["t"]!
        }
        let source = try make(seed: 1)
        var contents = TorchCheckpointContents(tensors: [])
        for (store, integer) in [(source.parameters, false), (source.buffers, true)] {
            for entry in store.entries {
                let values = Array(store.values[entry.range])
                contents.tensors.append((entry.name, tensor(values, entry.shape, integer: integer && entry.type == .int64)))
            }
        }
        let momentum = source.parameters.values.map { $0 * 0.5 }
        let names = source.parameters.entries.map(\.name)
        XCTAssertEqual(names, contents.tensors.map(\.name).filter { !TorchCheckpoint.isBuffer($0) },
                       "the buffer rule must single out this model's parameters")
        contents.optimizer = TorchOptimizerState(
            name: "SGD",
            tensors: source.parameters.entries.map { ("momentum_buffer", $0.name, tensor(Array(momentum[$0.range]), $0.shape)) },
            scalars: [], hyperparameters: [:], parameters: names)
        contents.epoch = 2
        contents.maxTestAccuracy = 0.5

        let target = try make(seed: 2)
        let sgd = SGD()
        let state = try XCTUnwrap(try Checkpoint.load(TorchCheckpoint.safetensorsData(contents, model: "spiking_cnn_small"),
                                                      name: "converted", into: target, optimizer: sgd))
        XCTAssertEqual(target.parameters.values, source.parameters.values)
        XCTAssertEqual(target.buffers.values, source.buffers.values)
        XCTAssertEqual(sgd.state["momentum_buffer"], momentum)
        XCTAssertEqual(state.epoch, 3)
        XCTAssertEqual(state.maxTestAccuracy, 0.5)
        XCTAssertEqual(state.chunkSamples, BatchLayout.defaultChunkSamples,
                       "a .pth has no clif-mpi chunk rule to keep: it resumes with the default")
    }
}
