import Foundation
import XCTest
@testable import Core

/// `clif-mpi convert`: the optimiser settings and scheduler a clif-mpi
/// checkpoint's run arguments give the `.pth`, and the line it prints.
final class TorchCheckpointConversionTests: XCTestCase {
    var pth: URL { Fixture.root.appendingPathComponent("pth/spiking_cnn_small_digits.pth") }

    func temporary(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("conversion-\(getpid())-\(name)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A clif-mpi checkpoint after `epoch` epochs whose run recorded `arguments`, as a file.
    func checkpoint(_ arguments: [RunArguments.Entry], epoch: Int) throws -> SafeTensorsFile {
        let data = try DatasetCatalog.load("digits", dataDirectory: URL(fileURLWithPath: "."))
        let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: data.channels, classes: data.classes,
                                                      height: data.height, width: data.width, activation: Activation(.lif), seed: 1))
        let url = temporary("epoch\(epoch)-\(arguments.count).safetensors")
        try Checkpoint.save(network: network, optimizer: nil, optimizerName: "SGD",
                            state: TrainingState(epoch: epoch, globalStep: 10, maxTestAccuracy: 0.5,
                                                 arguments: RunArguments(arguments), model: "spiking_cnn_small"),
                            to: url)
        return try SafeTensorsFile(data: Data(contentsOf: url), name: url.path)
    }

    func testSchedulersAreTheRecordedOnesAfterTheEpochsCompleted() throws {
        let optimizer: [RunArguments.Entry] = [.init("lr", .number("0.1")), .init("momentum", .number("0.9")),
                                               .init("weight_decay", .number("0.0005"))]
        let cosine = try TorchCheckpoint.training(of: checkpoint(optimizer + [.init("lr_scheduler", .text("CosALR")),
                                                                                .init("T_max", .number("300"))], epoch: 3), name: "c")
        let expected = TorchCheckpoint.SchedulerState(kind: .cosine(tMax: 300), baseLearningRate: 0.1, lastEpoch: 3)
        XCTAssertEqual(cosine.scheduler, expected)
        XCTAssertEqual(cosine.hyperparameters, ["lr": expected.learningRate, "initial_lr": 0.1, "momentum": 0.9, "weight_decay": 0.0005])
        let step = try TorchCheckpoint.training(of: checkpoint(optimizer + [.init("lr_scheduler", .text("StepLR")), .init("step_size", .number("2")),
                                                                              .init("gamma", .number("0.5"))], epoch: 3), name: "s")
        XCTAssertEqual(step.scheduler, TorchCheckpoint.SchedulerState(kind: .step(stepSize: 2, gamma: 0.5), baseLearningRate: 0.1, lastEpoch: 3))
        XCTAssertEqual(step.hyperparameters["lr"], 0.05)
        let none = try TorchCheckpoint.training(of: checkpoint(optimizer, epoch: 3), name: "n")
        XCTAssertNil(none.scheduler, "no lr_scheduler recorded")
        XCTAssertEqual(none.hyperparameters, ["lr": 0.1, "initial_lr": 0.1, "momentum": 0.9, "weight_decay": 0.0005])
        let bare = try TorchCheckpoint.training(of: checkpoint([], epoch: 3), name: "b")
        XCTAssertNil(bare.scheduler)
        XCTAssertEqual(bare.hyperparameters, [:])
    }

    func testLineNamesWhatWasWritten() {
        var contents = TorchCheckpointContents(tensors: [])
        XCTAssertEqual(TorchCheckpoint.conversionLine(contents, from: "a.pth", to: "b.safetensors"), "a.pth: 0 tensors → b.safetensors")
        contents.epoch = 4
        contents.optimizer = TorchOptimizerState(name: "SGD", tensors: [], scalars: [], hyperparameters: [:], parameters: [])
        XCTAssertEqual(TorchCheckpoint.conversionLine(contents, from: "a", to: "b", epochNote: " (note)"), "a: 0 tensors, SGD state, epoch 4 (note) → b")
    }

    /// The original's `.pth` to safetensors and back, each written whole and said.
    func testConvertBothWays() throws {
        let safetensors = temporary("converted.safetensors"), back = temporary("back.pth")
        let line = try TorchCheckpoint.convert(Data(contentsOf: pth), name: pth.path, to: safetensors.path, model: "spiking_cnn_small")
        XCTAssertTrue(line.hasPrefix("\(pth.path): ") && line.hasSuffix(" → \(safetensors.path)"), line)
        let written = try Data(contentsOf: safetensors)
        XCTAssertFalse(TorchCheckpoint.isTorchFile(written))
        XCTAssertEqual(try SafeTensorsFile(data: written).metadata["model"], "spiking_cnn_small")
        let again = try TorchCheckpoint.convert(written, name: "converted", to: back.path, model: "")
        XCTAssertTrue(again.hasPrefix("converted: ") && again.hasSuffix(" → \(back.path) (PyTorch .pth)"), again)
        XCTAssertTrue(TorchCheckpoint.isTorchFile(try Data(contentsOf: back)))
        XCTAssertThrowsError(try TorchCheckpoint.convert(Data("not a checkpoint".utf8), name: "junk", to: back.path, model: ""))
    }
}
