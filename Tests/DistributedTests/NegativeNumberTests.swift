import Foundation
import XCTest

/// A negative number after an option that takes a value is that option's
/// value in every command, as in the original's argparse: out-of-range values
/// are refused by the command's range check, not by the parser.
final class NegativeNumberTests: XCTestCase {
    /// Runs clif-mpi expecting a refusal that names `message`.
    func refused(_ arguments: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Tool.run(try Tool.binary.path, arguments)
        XCTAssertNotEqual(r.status, 0, r.output, file: file, line: line)
        XCTAssertTrue(r.output.contains(message), "expected \(message):\n\(r.output)", file: file, line: line)
        XCTAssertFalse(r.output.contains("Missing value"), r.output, file: file, line: line)
    }

    func testRangeChecksSeeNegativeValues() throws {
        try refused(["train", "-lr", "-0.1"], "-lr must be positive, got -0.1")
        try refused(["train", "-lr=-0.1"], "-lr must be positive, got -0.1")
        try refused(["train", "--learning-rate", "-0.1"], "-lr must be positive, got -0.1")
        try refused(["train", "-tau", "-2"], "-tau must be above 1 (PLIF starts at w = −ln(tau − 1)), got -2.0")
        try refused(["train", "-T", "-2"], "-T must be positive, got -2")
        try refused(["train", "-T=-2"], "-T must be positive, got -2")
        try refused(["train", "-weight_decay", "-1e-4"], "-weight_decay must not be negative, got -0.0001")
        try refused(["infer", "-b", "-8"], "-b must be positive, got -8")
        try refused(["infer", "-tau", "-.5"], "-tau must be above 1 (PLIF starts at w = −ln(tau − 1)), got -0.5")
        try refused(["energy", "-T", "-3"], "-T must be positive, got -3")
        try refused(["energy", "--lif-v-reset", "-0.06", "-b", "-1"], "-b must be positive, got -1")
        try refused(["bench", "--event-density", "-0.5"], "--event-density -0.5 is not in 0...1")
        try refused(["bench", "--conv-kernels", "-0.5"], "--conv-kernels -0.5 is not a density in (0, 1]")
        // The whole list is the value: its bad item is named by --v-reset's own check.
        try refused(["infer", "--checkpoint", "x", "--v-reset", "-0.02,x"], "--v-reset -0.02,x: expected none or numbers")
        // After a value, a real flag is still a flag, and the next option still reads its negative value.
        try refused(["train", "-name", "x", "-amp", "-T", "-1"], "-T must be positive, got -1")
    }

    /// `--v-reset -0.06` and `--v-reset -0.02,-0.04` evaluate those resets, and
    /// `-amp` after them is the flag.
    func testInferTakesNegativeResets() throws {
        let (trained, checkpoint) = try Tool.trainDigits("negative-reset", timeSteps: 2, epochs: 1,
                                                         checkpoint: "checkpoint_latest.safetensors")
        XCTAssertEqual(trained.status, 0, trained.output)
        let out = try Tool.temporaryFolder("negative-reset-logs")
        defer { try? FileManager.default.removeItem(at: out) }
        let base = ["infer", "-resume", checkpoint, "-neuron", "LIF", "-b", "64", "-out_dir", out.path]
        func rows(_ output: String) -> [String] {
            output.split(separator: "\n").filter { $0.hasPrefix("| LIF |") }.map { String($0.split(separator: "|")[1...1].joined()) }
        }
        let one = try Tool.run(try Tool.binary.path, base + ["--v-reset", "-0.06", "-amp", "-save_init"])
        XCTAssertEqual(one.status, 0, one.output)
        XCTAssertEqual(rows(one.output), [" hard -0.06 "], one.output)
        XCTAssertTrue(one.output.contains("Namespace(T=2, amp=True, "), one.output)
        // -save_init keeps the evaluated weights in the log folder (LIF: no neuron in its name).
        let saved = out.appendingPathComponent("inference_digits_spiking_cnn_small__T2_tau2.0_bs64_amp/checkpoint_0.safetensors")
        XCTAssertTrue(FileManager.default.fileExists(atPath: saved.path), one.output)
        let two = try Tool.run(try Tool.binary.path, base + ["--v-reset", "-0.02,-0.04"])
        XCTAssertEqual(two.status, 0, two.output)
        XCTAssertEqual(rows(two.output), [" hard -0.02 ", " hard -0.04 "], two.output)
        XCTAssertTrue(two.output.contains("Namespace(T=2, amp=False, "), two.output)
    }
}
