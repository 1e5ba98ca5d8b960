import Foundation
import XCTest

/// `clif-mpi train` as a user runs it: the original's flag spelling, bad
/// input, exact resumption.
final class TrainCommandTests: XCTestCase {
    let small = ["-dataset", "digits", "-model", "spiking_cnn_small", "-T", "2", "-b", "64", "-epochs", "2", "-T_max", "2"]

    func train(_ arguments: [String], outDir: URL) throws -> Tool.Result {
        try Tool.run(try Tool.binary.path, ["train"] + arguments + ["-out_dir", outDir.path])
    }

    func testOriginalFlagSpellingAndDefaults() throws {
        let out = try Tool.temporaryFolder("flags")
        let r = try train(["-seed", "7", "-T", "2", "-tau", "2.5", "-b", "32", "-epochs", "1", "-j", "0",
                           "-data_dir", "/nonexistent", "-dataset", "digits", "-surrogate", "sigmoid", "-opt", "SGD",
                           "-lr=0.05", "-momentum", "0.8", "-lr_scheduler", "StepLR", "-step_size", "1", "-gamma", "0.5",
                           "-T_max", "1", "-model", "spiking_cnn_small", "-drop_rate", "0.1", "-weight_decay", "1e-4",
                           "-loss_lambda", "0.1", "-mse_n_reg", "-loss_means", "0.5", "-save_init", "-neuron", "PLIF",
                           "-label_smoothing", "0.1", "-name", "x", "--max-steps", "2"], outDir: out)
        XCTAssertEqual(r.status, 0, r.output)
        let folder = try Tool.runFolder(out)
        XCTAssertEqual(folder.lastPathComponent,
                       "BPTT_digits_spiking_cnn_small_x_T2_tau2.5_e1_bs32_SGD_lr0.05_wd0.0001_SG_sigmoid_drop0.1_losslamb0.1_StepLR_1_0.5")
        let args = try String(contentsOf: folder.appendingPathComponent("args.txt"), encoding: .utf8)
        for expected in ["lr=0.05", "neuron_model='PLIF'", "mse_n_reg=True", "save_init=True", "seed=7", "momentum=0.8",
                         "label_smoothing=0.1", "loss_means=0.5", "resume=None", "T=2"] {
            XCTAssertTrue(args.contains(expected), "args.txt lacks \(expected): \(args)")
        }
        for file in ["checkpoint_0.safetensors", "checkpoint_latest.safetensors", "args.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), file)
        }
        // The kebab-case forms are the same flags.
        let kebab = try Tool.temporaryFolder("kebab")
        let k = try Tool.run(try Tool.binary.path, ["train", "--dataset", "digits", "--model", "spiking_cnn_small",
                                                     "--time-steps", "2", "--batch-size", "32", "--neuron-model", "CLIF",
                                                     "--learning-rate", "0.05", "--epochs", "1", "--t-max", "1",
                                                     "--max-steps", "1", "--out-dir", kebab.path])
        XCTAssertEqual(k.status, 0, k.output)
        XCTAssertTrue(try Tool.runFolder(kebab).lastPathComponent.contains("_T2_tau2.0_e1_bs32_SGD_lr0.05_"))
        // --help documents the original flags.
        let help = try Tool.run(try Tool.binary.path, ["train", "--help"])
        for flag in ["-neuron_model", "-loss_lambda", "-cutupmix_auto", "--max-steps", "--no-shuffle", "--threads"] {
            XCTAssertTrue(help.output.contains(flag), "help lacks \(flag)")
        }
    }

    func testBadInputIsRefusedClearly() throws {
        let cases: [([String], String)] = [
            (["-dataset", "imagenet"], "-dataset imagenet"),
            (["-model", "resnet9000"], "-model resnet9000"),
            (["-neuron", "HH"], "'HH' is invalid for '-neuron <neuron_model>'"),
            (["-b", "0"], "-b must be positive"),
            (["-drop_rate", "1.5"], "-drop_rate"),
            (["-surrogate", "step"], "'step' is invalid for '-surrogate <surrogate>'"),
            (["-dataset", "cifar10", "-data_dir", "/nonexistent"], "cifar"),
            (["-dataset", "digits", "-model", "spiking_resnet18"], "32×32"),
            (["-dataset", "digits", "-model", "spiking_cnn_small", "-resume", "/nonexistent/checkpoint"], "/nonexistent/checkpoint"),
        ]
        for (arguments, expected) in cases {
            let out = try Tool.temporaryFolder("bad")
            let r = try train(arguments + ["--max-steps", "1", "-epochs", "1"], outDir: out)
            XCTAssertNotEqual(r.status, 0, "\(arguments) should fail")
            XCTAssertTrue(r.output.contains(expected), "\(arguments): message should mention \(expected): \(r.output)")
            let checkpoints = FileManager.default.enumerator(atPath: out.path)?.compactMap { $0 as? String }
                .filter { $0.hasSuffix(".safetensors") } ?? []
            XCTAssertEqual(checkpoints, [], "\(arguments) left checkpoints behind")
        }
    }

    /// A checkpoint of another model is refused with the tensor and shapes named.
    func testCheckpointOfAnotherModelIsRefused() throws {
        let out = try Tool.temporaryFolder("other")
        XCTAssertEqual(try train(small + ["--max-steps", "1"], outDir: out).status, 0)
        let checkpoint = try Tool.runFolder(out).appendingPathComponent("checkpoint_latest.safetensors")
        let other = try Tool.temporaryFolder("other2")
        let r = try train(["-dataset", "synthetic", "-model", "spiking_vgg11_bn", "-T", "1", "-b", "16",
                           "-resume", checkpoint.path, "--max-steps", "1"], outDir: other)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("has no tensor layer1.0.weight"), r.output)
    }

    /// Stopped mid-epoch and resumed, a run ends with the same bytes as an
    /// uninterrupted one (checkpoints record the arguments, so both runs use
    /// the same -out_dir string, one after the other).
    func testResumeIsByteIdentical() throws {
        let out = try Tool.temporaryFolder("resume")
        XCTAssertEqual(try train(small + ["-drop_rate", "0.2"], outDir: out).status, 0)
        let folder = try Tool.runFolder(out)
        let straight = try Data(contentsOf: folder.appendingPathComponent("checkpoint_latest.safetensors"))
        let straightMax = try Data(contentsOf: folder.appendingPathComponent("checkpoint_max.safetensors"))
        try FileManager.default.removeItem(at: out)

        let first = try train(small + ["-drop_rate", "0.2", "--max-steps", "30"], outDir: out)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("stopped by --max-steps after step 30"), first.output)
        let latest = try Tool.runFolder(out).appendingPathComponent("checkpoint_latest.safetensors")
        let saved = try Tool.temporaryFolder("resume-saved").appendingPathComponent("interrupted.safetensors")
        try FileManager.default.copyItem(at: latest, to: saved)
        let second = try train(small + ["-drop_rate", "0.2", "-resume", saved.path], outDir: out)
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("start epoch: 1 at batch 7"), second.output)
        XCTAssertEqual(try Data(contentsOf: latest), straight, "resumed checkpoint_latest differs from the uninterrupted run's")
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("checkpoint_max.safetensors")), straightMax)
        // The epoch summaries agree too.
        let metrics = try String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(metrics.contains("\"epoch\":1"), metrics)
    }

    /// A diverging run stops at the step where NaN appears (or skips it).
    func testNonFiniteStepsStopOrAreSkipped() throws {
        let out = try Tool.temporaryFolder("nan")
        let diverging = small + ["-lr", "1e30", "-epochs", "1", "-T_max", "1"]
        let stopped = try train(diverging, outDir: out)
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertTrue(stopped.output.contains("non-finite values at step 2 (epoch 0, batch 2): loss nan; first non-finite gradient in features.0.weight"),
                      stopped.output)
        let sharded = try Tool.mpi(2, ["train"] + diverging + ["-out_dir", out.path])
        XCTAssertNotEqual(sharded.status, 0)
        XCTAssertTrue(sharded.output.contains("non-finite values at step 2"), sharded.output)
        let skipped = try train(diverging + ["--on-nan", "skip"], outDir: out)
        XCTAssertEqual(skipped.status, 0, skipped.output)
        XCTAssertTrue(skipped.output.contains("skipped a step with non-finite values (--on-nan skip) at step 2"), skipped.output)
    }

    /// Stopped mid-epoch at -b 16 (batch 60, sample 960) and resumed at
    /// -b 128: the run continues at the sample position and says so (it used
    /// to trap on the checkpoint's batch index); a checkpoint whose position
    /// lies past a smaller split is refused with a message.
    func testResumeWithAnotherBatchSize() throws {
        let out = try Tool.temporaryFolder("resume-b")
        let first = try train(["-dataset", "digits", "-model", "spiking_cnn_small", "-T", "2", "-b", "16",
                               "-epochs", "1", "-T_max", "1", "--max-steps", "60"], outDir: out)
        XCTAssertEqual(first.status, 0, first.output)
        let saved = try Tool.temporaryFolder("resume-b-saved").appendingPathComponent("b16.safetensors")
        try FileManager.default.copyItem(at: Tool.runFolder(out).appendingPathComponent("checkpoint_latest.safetensors"), to: saved)
        let larger = try Tool.temporaryFolder("resume-b128")
        let r = try train(["-dataset", "digits", "-model", "spiking_cnn_small", "-T", "2", "-b", "128",
                           "-epochs", "1", "-T_max", "1", "-resume", saved.path], outDir: larger)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("continues at sample 960") && r.output.contains("batch 8 of 12"), r.output)
        XCTAssertTrue(r.output.contains("epoch=0"), "the epoch must finish: \(r.output)")
        // 960 samples of digits lie past the end of any smaller split: refused, not trapped.
        var stopped = try Data(contentsOf: saved)
        let field = try XCTUnwrap(stopped.range(of: Data("\"batch_in_epoch\":\"60\"".utf8)))
        stopped.replaceSubrange(field, with: Data("\"batch_in_epoch\":\"99\"".utf8))
        try stopped.write(to: saved)
        let beyond = try train(["-dataset", "digits", "-model", "spiking_cnn_small", "-T", "2", "-b", "128",
                                "-epochs", "1", "-T_max", "1", "-resume", saved.path], outDir: larger)
        XCTAssertEqual(beyond.status, 1, beyond.output)
        XCTAssertTrue(beyond.output.contains("past the end of this run's 1433 training samples"), beyond.output)
    }
}
