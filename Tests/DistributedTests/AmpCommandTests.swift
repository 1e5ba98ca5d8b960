import Foundation
import XCTest

/// `infer -amp` and `bench --amp`: bf16 autocast numerics change the
/// evaluation, and sharded over ranks the figures stay exact.
final class AmpCommandTests: XCTestCase {
    /// The row's accuracy and loss columns.
    func figures(_ output: String) -> [String] {
        output.split(separator: "\n").filter { $0.hasPrefix("| CLIF |") }
            .map { $0.split(separator: "|").prefix(5).joined(separator: "|") }
    }

    func testInferAmpDiffersFromFP32AndIsShardedExactly() throws {
        let (trained, checkpoint) = try Tool.trainDigits("amp-infer", timeSteps: 2, epochs: 1,
                                                         checkpoint: "checkpoint_latest.safetensors")
        XCTAssertEqual(trained.status, 0, trained.output)
        let flags = ["infer", "--checkpoint", checkpoint, "-b", "64"]
        let fp32 = try Tool.run(try Tool.binary.path, flags)
        let amp = try Tool.run(try Tool.binary.path, flags + ["-amp"])
        XCTAssertEqual(fp32.status, 0, fp32.output)
        XCTAssertEqual(amp.status, 0, amp.output)
        XCTAssertEqual(figures(amp.output).count, 1, amp.output)
        XCTAssertNotEqual(figures(amp.output), figures(fp32.output), "-amp must change the evaluation loss")
        let sharded = try Tool.mpi(2, flags + ["-amp"])
        XCTAssertEqual(sharded.status, 0, sharded.output)
        XCTAssertEqual(figures(sharded.output), figures(amp.output))
    }

    func testBenchAmpNamesItsPrecision() throws {
        let r = try Tool.run(try Tool.binary.path, ["bench", "--model", "spiking_cnn_small", "--input", "1x8x8", "-T", "2",
                                                    "-b", "8", "--steps", "1", "--warmup", "0", "--amp"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("bf16 autocast (-amp)"), r.output)
        XCTAssertTrue(r.output.contains("samples/s:"), r.output)
    }
}
