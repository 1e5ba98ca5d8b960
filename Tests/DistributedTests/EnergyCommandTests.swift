import Foundation
import XCTest

/// `clif-mpi energy`: per-layer rates and energy of a trained checkpoint, the
/// same numbers alone and sharded over ranks.
final class EnergyCommandTests: XCTestCase {
    func testEnergyReportIsShardedExactly() throws {
        let (trained, checkpoint) = try Tool.trainDigits("energy", timeSteps: 4, epochs: 1, checkpoint: "checkpoint_max.safetensors")
        XCTAssertEqual(trained.status, 0, trained.output)
        let command = ["energy", "--checkpoint", checkpoint, "-b", "50"]
        let alone = try Tool.run(try Tool.binary.path, command)
        XCTAssertEqual(alone.status, 0, alone.output)
        let lines = alone.output.split(separator: "\n")
        func row(_ prefix: String) -> [String] {
            (lines.first { $0.hasPrefix(prefix) } ?? "").split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        XCTAssertTrue(alone.output.contains("T=4, digits test set (364 images)"), alone.output)
        // The first convolution reads the analog input; its ANN energy needs no rate:
        // 59,187.2 operations + 240 addressing + 26,240 inputs/outputs + 32,000 parameters (pJ).
        let first = row("| features.0 |")
        XCTAssertEqual(first.count, 9, alone.output)
        XCTAssertEqual(first[2], "1 (analog)")
        XCTAssertEqual(first[8], "117.67")
        XCTAssertEqual(row("| classifier |")[3], "0.00 %", "the classifier drives no neuron")
        // Every rate, energy and total agrees exactly under 3 ranks.
        let sharded = try Tool.mpi(3, command)
        XCTAssertEqual(sharded.status, 0, sharded.output)
        func tables(_ output: String) -> [Substring] { output.split(separator: "\n").filter { $0.hasPrefix("|") } }
        XCTAssertEqual(tables(sharded.output), tables(alone.output))
        XCTAssertEqual(tables(alone.output).count, 4 + 5 + 5, alone.output)
        // The trained neuron's accuracy in the totals is the training run's max_test_acc.
        let best = try XCTUnwrap(trained.output.split(separator: "\n").last { $0.hasPrefix("max_test_acc=") })
        let accuracy = Double(best.dropFirst("max_test_acc=".count).prefix { $0 != "," })!
        XCTAssertEqual(row("| CLIF |")[1], String(format: "%.2f %%", 100 * accuracy))
    }

    /// Event streams are cut into -T frames: a T other than the original's
    /// default 6 measures (it stopped on a precondition before).
    func testEventDataIsFramedByT() throws {
        let data = try Tool.temporaryFolder("energy-dvs")
        try DVSCommandTests.writeGestureFolder(data)
        let run = try Tool.run(try Tool.binary.path, ["energy", "-model", "spiking_vgg11_bn", "-dataset", "dvsgesture",
                                                      "-data_dir", data.path, "-neuron", "CLIF", "-T", "4", "-b", "16"])
        Tool.assertOutput(run, contains: ["spiking_vgg11_bn, freshly initialised, T=4, dvsgesture test set", "| ANN | "])
    }

    func testBadEnergyInput() throws {
        let noModel = try Tool.run(try Tool.binary.path, ["energy", "-dataset", "digits", "-neuron", "CLIF"])
        XCTAssertNotEqual(noModel.status, 0)
        XCTAssertTrue(noModel.output.contains("-model"), noModel.output)
        let relu = try Tool.run(try Tool.binary.path, ["energy", "-model", "spiking_cnn_small", "-dataset", "digits",
                                                       "-neuron", "relu"])
        XCTAssertNotEqual(relu.status, 0)
        XCTAssertTrue(relu.output.contains("-neuron"), relu.output)
        let badReset = try Tool.run(try Tool.binary.path, ["energy", "--lif-v-reset", "soft"])
        XCTAssertNotEqual(badReset.status, 0)
        XCTAssertTrue(badReset.output.contains("--lif-v-reset"), badReset.output)
    }
}
