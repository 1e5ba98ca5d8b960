import Foundation
import XCTest

/// `clif-mpi infer`: the conversion sweep of a trained checkpoint, the same
/// numbers alone and sharded over ranks.
final class InferCommandTests: XCTestCase {
    func testConversionSweepIsShardedExactly() throws {
        let out = try Tool.temporaryFolder("infer")
        let trained = try Tool.run(try Tool.binary.path, ["train", "-dataset", "digits", "-model", "spiking_cnn_small",
                                                           "-neuron", "CLIF", "-T", "4", "-b", "64", "-epochs", "2",
                                                           "-T_max", "2", "-out_dir", out.path])
        XCTAssertEqual(trained.status, 0, trained.output)
        let checkpoint = try Tool.runFolder(out).appendingPathComponent("checkpoint_max.safetensors").path
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

    func testBadInferInput() throws {
        let missing = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", "/nonexistent.safetensors"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.output.contains("/nonexistent.safetensors"), missing.output)
        let badReset = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", "x", "--v-reset", "soft"])
        XCTAssertNotEqual(badReset.status, 0)
        XCTAssertTrue(badReset.output.contains("--v-reset"), badReset.output)
    }
}
