import Foundation
import XCTest

/// `clif-mpi infer`: the conversion sweep of a trained checkpoint, the same
/// numbers alone and sharded over ranks.
final class InferCommandTests: XCTestCase {
    func testConversionSweepIsShardedExactly() throws {
        let (trained, checkpoint) = try Tool.trainDigits("infer", timeSteps: 4, epochs: 2, checkpoint: "checkpoint_max.safetensors")
        XCTAssertEqual(trained.status, 0, trained.output)
        let sweep = ["infer", "--checkpoint", checkpoint, "-neuron", "LIF", "--v-reset", "none,0,-0.04", "-b", "50"]
        let alone = try Tool.run(try Tool.binary.path, sweep)
        XCTAssertEqual(alone.status, 0, alone.output)
        let rows = alone.output.split(separator: "\n").filter { $0.hasPrefix("| LIF |") }
        XCTAssertEqual(rows.count, 3, alone.output)
        XCTAssertTrue(alone.output.contains("trained with CLIF, evaluated with LIF, T=4"), alone.output)
        // Accuracy and loss columns agree exactly under 3 ranks (throughput differs).
        let sharded = try Tool.mpi(3, sweep)
        XCTAssertEqual(sharded.status, 0, sharded.output)
        func figures(_ output: String) -> [String] {
            output.split(separator: "\n").filter { $0.hasPrefix("| LIF |") }
                .map { $0.split(separator: "|").prefix(5).joined(separator: "|") }
        }
        XCTAssertEqual(figures(sharded.output), figures(alone.output))
        // The trained neuron's own accuracy equals the training run's max_test_acc.
        let own = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", checkpoint])
        let best = try XCTUnwrap(trained.output.split(separator: "\n").last { $0.hasPrefix("max_test_acc=") })
        let accuracy = Double(best.dropFirst("max_test_acc=".count).prefix { $0 != "," })!
        XCTAssertTrue(own.output.contains(String(format: "| CLIF | soft | %.2f %%", 100 * accuracy)), own.output)
    }

    /// A `-name` and `-data_dir` full of what broke the old `Namespace(…)`
    /// text (", T=" read back as T, quotes, parentheses, unicode): args.txt quotes them
    /// as Python does, and infer reads the model, T and neuron back from the
    /// checkpoint's JSON arguments.
    func testAwkwardArgumentsSurviveTheCheckpoint() throws {
        let out = try Tool.temporaryFolder("awkward")
        let name = "a, T=9 b's \"q\" (x=1) λ"
        let data = try Tool.temporaryFolder("data, d=1 (é)").path
        let run = try Tool.run(try Tool.binary.path, ["train", "-dataset", "digits", "-model", "spiking_cnn_small", "-neuron", "PLIF",
                                                      "-T", "3", "-b", "64", "-epochs", "1", "-T_max", "1", "--max-steps", "1",
                                                      "-name", name, "-data_dir", data, "-out_dir", out.path])
        XCTAssertEqual(run.status, 0, run.output)
        let folder = try Tool.runFolder(out)
        let args = try String(contentsOf: folder.appendingPathComponent("args.txt"), encoding: .utf8)
        XCTAssertTrue(args.contains(#"name='a, T=9 b\'s "q" (x=1) λ', neuron_model='PLIF'"#), args)
        XCTAssertTrue(args.contains("data_dir='\(data)'"), args)
        let infer = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", folder.appendingPathComponent("checkpoint_latest.safetensors").path,
                                                        "-b", "200"])
        XCTAssertEqual(infer.status, 0, infer.output)
        XCTAssertTrue(infer.output.contains("spiking_cnn_small trained with PLIF, evaluated with PLIF, T=3, digits"), infer.output)
    }

    func testBadInferInput() throws {
        try Tool.assertRefused(["infer", "--checkpoint", "/nonexistent.safetensors"], saying: "/nonexistent.safetensors")
        try Tool.assertRefused(["infer", "--checkpoint", "x", "--v-reset", "soft"], saying: "--v-reset")
        try Tool.assertRefused(["infer", "-neuron", "relu", "--v-reset", "-0.1"],
                               saying: "--v-reset -0.1: -neuron relu has no membrane to reset")
        // -resume and --checkpoint are one flag: two different files are refused.
        try Tool.assertRefused(["infer", "-resume", "a.pth", "--checkpoint", "b.pth"],
                               saying: "-resume a.pth and --checkpoint b.pth name different files")
        try Tool.assertRefused(["infer", "-resume", "/nonexistent.pth", "--checkpoint", "/nonexistent.pth"],
                               saying: "-resume /nonexistent.pth: cannot read it")
    }
}

/// The original's `.pth` checkpoints work where clif-mpi's do.
final class TorchCheckpointCommandTests: XCTestCase {
    var fixture: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pth/spiking_cnn_small_digits.pth").path
    }

    func testInferConvertAndResumeFromPth() throws {
        let flags = ["-model", "spiking_cnn_small", "-dataset", "digits", "-T", "2", "-neuron", "CLIF", "-b", "64"]
        let direct = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", fixture] + flags)
        XCTAssertEqual(direct.status, 0, direct.output)
        let out = try Tool.temporaryFolder("pth")
        let converted = out.appendingPathComponent("converted.safetensors").path
        let conversion = try Tool.run(try Tool.binary.path, ["convert", fixture, converted, "--model", "spiking_cnn_small"])
        XCTAssertEqual(conversion.status, 0, conversion.output)
        XCTAssertTrue(conversion.output.contains("SGD state, epoch 3"), conversion.output)
        let viaSafetensors = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", converted] + flags)
        func rows(_ s: String) -> [Substring] { s.split(separator: "\n").filter { $0.hasPrefix("| CLIF |") }.map { $0.split(separator: "|").prefix(5).joined(separator: "|")[...] } }
        XCTAssertEqual(rows(viaSafetensors.output), rows(direct.output))
        XCTAssertEqual(rows(direct.output).count, 1)
        // The original's ANN baseline: -neuron relu evaluates one time step.
        let relu = try Tool.run(try Tool.binary.path, ["infer", "-resume", fixture, "-model", "spiking_cnn_small", "-dataset", "digits",
                                                       "-neuron", "relu", "-b", "64", "-out_dir", out.path])
        XCTAssertEqual(relu.status, 0, relu.output)
        XCTAssertTrue(relu.output.contains("Namespace(T=1, ") && relu.output.contains("| relu | – |"), relu.output)
        // -resume continues after the original's epoch 3.
        let resumed = try Tool.run(try Tool.binary.path, ["train", "-resume", fixture, "-epochs", "5", "-T_max", "5",
                                                          "--max-steps", "2", "-out_dir", out.path] + flags)
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("start epoch: 4"), resumed.output)
        // A hostile .pth is refused before anything runs.
        let evil = URL(fileURLWithPath: fixture).deletingLastPathComponent().appendingPathComponent("evil_os_system.pth").path
        let refused = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", evil] + flags)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("os.system") || refused.output.contains("os system"), refused.output)
    }

    /// safetensors → .pth → safetensors gives back the same bytes, and the
    /// written .pth evaluates like the original's.
    func testConvertWritesPth() throws {
        let out = try Tool.temporaryFolder("pth-write")
        let first = out.appendingPathComponent("first.safetensors").path
        let pth = out.appendingPathComponent("written.pth").path
        let second = out.appendingPathComponent("second.safetensors").path
        for (input, output) in [(fixture, first), (first, pth), (pth, second)] {
            let run = try Tool.run(try Tool.binary.path, ["convert", input, output, "--model", "spiking_cnn_small"])
            XCTAssertEqual(run.status, 0, run.output)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: second)), try Data(contentsOf: URL(fileURLWithPath: first)))
        let flags = ["-model", "spiking_cnn_small", "-dataset", "digits", "-T", "2", "-neuron", "CLIF", "-b", "64"]
        let original = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", fixture] + flags)
        let written = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", pth] + flags)
        func rows(_ s: String) -> [String] { s.split(separator: "\n").filter { $0.hasPrefix("| CLIF |") }.map { $0.split(separator: "|").prefix(5).joined(separator: "|") } }
        XCTAssertEqual(rows(written.output).count, 1, written.output)
        XCTAssertEqual(rows(written.output), rows(original.output))
        let notCheckpoint = try Tool.run(try Tool.binary.path, ["convert", out.appendingPathComponent("nothing").path, pth])
        XCTAssertNotEqual(notCheckpoint.status, 0)
        XCTAssertTrue(notCheckpoint.output.contains("nothing"), notCheckpoint.output)
    }
}
