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
        try refused(["energy", "-T", "-3"], "-T must be positive, got -3")
        try refused(["energy", "--lif-v-reset", "-0.06", "-b", "-1"], "-b must be positive, got -1")
        try refused(["bench", "--event-density", "-0.5"], "--event-density -0.5 is not in 0...1")
        // The whole list is the value: its bad item is named by --v-reset's own check.
        try refused(["infer", "--checkpoint", "x", "--v-reset", "-0.02,x"], "--v-reset -0.02,x: expected none or numbers")
        // After a value, a real flag is still a flag, and the next option still reads its negative value.
        try refused(["train", "-name", "x", "-amp", "-T", "-1"], "-T must be positive, got -1")
    }
}
