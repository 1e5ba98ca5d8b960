import Foundation
import XCTest
@testable import Core

/// `CheckpointedModel`: the settings `infer`, `energy` and `export-nir` read
/// from a checkpoint (flag, else recorded, else default or an error naming
/// the flag), and the model it builds from a `.pth` or a safetensors file.
final class CheckpointedModelTests: XCTestCase {
    var pth: URL { Fixture.root.appendingPathComponent("pth/spiking_cnn_small_digits.pth") }

    /// A spiking_cnn_small CLIF checkpoint of the embedded digits whose run recorded `arguments`.
    func writeCheckpoint(_ arguments: RunArguments, name: String) throws -> URL {
        let data = try DatasetCatalog.load("digits", dataDirectory: URL(fileURLWithPath: "."))
        let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: data.channels, classes: data.classes,
                                                      height: data.height, width: data.width,
                                                      activation: try XCTUnwrap(Activation(name: "CLIF")), seed: 5))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("checkpointed-\(name)-\(getpid()).safetensors")
        try Checkpoint.save(network: network, optimizer: nil, optimizerName: "SGD",
                            state: TrainingState(epoch: 3, globalStep: 9, maxTestAccuracy: 0.25, arguments: arguments,
                                                 model: "spiking_cnn_small"),
                            to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testFlagOverridesWhatTheCheckpointRecords() throws {
        let url = try writeCheckpoint(RunArguments([.init("model", .text("spiking_cnn_small")), .init("T", .number("3")),
                                                    .init("tau", .number("1.5")), .init("neuron_model", .text("CLIF"))]),
                                      name: "flags")
        let described = try CheckpointedModel(path: url.path, flag: "--checkpoint")
        XCTAssertEqual(try described.setting(nil, "model", pass: "-model"), "spiking_cnn_small")
        XCTAssertEqual(try described.setting("spiking_vgg11_bn", "model", pass: "-model"), "spiking_vgg11_bn")
        XCTAssertEqual(try described.setting(nil, "T", pass: "-T") { Int($0) }, 3)
        XCTAssertEqual(try described.setting(7, "T", pass: "-T") { Int($0) }, 7)
        XCTAssertEqual(described.setting(nil, "tau", otherwise: 2) { Float($0) }, 1.5)
        XCTAssertEqual(described.setting(4, "tau", otherwise: 2) { Float($0) }, 4)
        // Not recorded: the default.
        XCTAssertEqual(described.setting(nil, "data_dir", otherwise: "./data"), "./data")
        XCTAssertEqual(described.trainedNeuron, "CLIF")
    }

    /// The settings every command resolves alike: -model and -dataset (else an error), -T (else 6), -tau (else 2.0).
    func testSharedSettings() throws {
        let described = CheckpointedModel(path: "run.safetensors", flag: "--checkpoint", recorded: RunArguments([
            .init("model", .text("spiking_cnn_small")), .init("dataset", .text("digits")), .init("T", .number("3")),
        ]))
        let named = try described.modelAndDataset(model: nil, dataset: "cifar10")
        XCTAssertEqual([named.model, named.dataset], ["spiking_cnn_small", "cifar10"])
        XCTAssertEqual([described.timeSteps(nil), described.timeSteps(5)], [3, 5])
        XCTAssertEqual([described.tau(nil), described.tau(1.5)], [2.0, 1.5])
        let fresh = CheckpointedModel(path: nil, flag: "--checkpoint", recorded: RunArguments())
        XCTAssertEqual(fresh.timeSteps(nil), 6)
        XCTAssertThrowsError(try fresh.modelAndDataset(model: "spiking_cnn_small", dataset: nil)) { error in
            XCTAssertEqual("\(error)", "without --checkpoint, pass -dataset")
        }
        XCTAssertThrowsError(try fresh.modelAndDataset(model: nil, dataset: nil)) { error in
            XCTAssertEqual("\(error)", "without --checkpoint, pass -model", "-model is asked for first")
        }
    }

    func testMissingSettingNamesTheFlagToPass() throws {
        let url = try writeCheckpoint(RunArguments([.init("model", .text("spiking_cnn_small"))]), name: "missing")
        let described = try CheckpointedModel(path: url.path, flag: "--checkpoint")
        XCTAssertThrowsError(try described.setting(nil, "T", pass: "-T") { Int($0) }) { error in
            XCTAssertEqual("\(error)", "--checkpoint \(url.path) does not record T; pass -T")
        }
        let fresh = try CheckpointedModel(path: nil, flag: "--checkpoint")
        XCTAssertThrowsError(try fresh.setting(nil, "dataset", pass: "-dataset")) { error in
            XCTAssertEqual("\(error)", "without --checkpoint, pass -dataset")
        }
        XCTAssertThrowsError(try CheckpointedModel(path: "/nonexistent.safetensors", flag: "-resume")) { error in
            XCTAssertTrue("\(error)".hasPrefix("-resume /nonexistent.safetensors: cannot read it ("), "\(error)")
        }
        // A .pth records no arguments.
        let original = try CheckpointedModel(path: pth.path, flag: "--checkpoint")
        XCTAssertEqual(original.recorded, RunArguments())
        XCTAssertThrowsError(try original.setting(nil, "model", pass: "-model")) { error in
            XCTAssertEqual("\(error)", "--checkpoint \(self.pth.path) does not record model; pass -model")
        }
    }

    /// The original's `.pth` and its conversion to safetensors build the same network, bit for bit.
    func testPthAndSafetensorsGiveTheSameModel() throws {
        let converted = FileManager.default.temporaryDirectory.appendingPathComponent("checkpointed-pth-\(getpid()).safetensors")
        try TorchCheckpoint.safetensorsData(TorchCheckpoint.read(contentsOf: pth), model: "spiking_cnn_small").write(to: converted)
        addTeardownBlock { try? FileManager.default.removeItem(at: converted) }
        var parameters: [[Float]] = [], epochs: [Int?] = []
        for path in [pth.path, converted.path] {
            let described = try CheckpointedModel(path: path, flag: "--checkpoint")
            let data = try described.dataset("digits", directory: nil, frames: 2)
            let network = try described.network("spiking_cnn_small", for: data, activation: try XCTUnwrap(Activation(name: "CLIF")))
            let state = try described.loadWeights(into: network) { try Data(contentsOf: URL(fileURLWithPath: $0)) }
            epochs.append(state?.epoch)
            parameters.append(network.parameters.values)
        }
        let fresh = try CheckpointedModel(path: nil, flag: "--checkpoint")
        let initial = try fresh.network("spiking_cnn_small", for: try fresh.dataset("digits", directory: nil, frames: 2),
                                        activation: try XCTUnwrap(Activation(name: "CLIF")))
        XCTAssertNil(try fresh.loadWeights(into: initial) { _ in XCTFail("nothing to read"); return Data() })
        XCTAssertEqual(parameters[0], parameters[1])
        XCTAssertNotEqual(parameters[0], initial.parameters.values, "the weights were not loaded")
        XCTAssertNotNil(epochs[0])
        XCTAssertEqual(epochs[0], epochs[1])
    }
}
