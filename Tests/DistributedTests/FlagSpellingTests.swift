import Foundation
import XCTest

/// An option shared by several commands has the same names in each: a
/// spelling that works for one command works for all of them.
final class FlagSpellingTests: XCTestCase {
    func run(_ arguments: [String]) throws -> Tool.Result { try Tool.run(try Tool.binary.path, arguments) }

    /// The value is refused by the option itself (so the name was taken),
    /// never as an unknown option.
    func assertTaken(_ arguments: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try run(arguments)
        XCTAssertNotEqual(r.status, 0, r.output, file: file, line: line)
        XCTAssertFalse(r.output.contains("Unknown option"), "\(arguments): \(r.output)", file: file, line: line)
        XCTAssertTrue(r.output.contains(message), "\(arguments): expected \(message):\n\(r.output)", file: file, line: line)
    }

    func testTheNeuronHasFourNamesEverywhere() throws {
        for command in ["train", "infer", "energy", "export-nir", "bench"] {
            for name in ["-neuron_model", "-neuron", "--neuron-model", "--neuron"] {
                try assertTaken([command, name, "Izhikevich"], "'Izhikevich' is invalid for")
            }
        }
    }

    /// energy and export-nir read a checkpoint as infer does: `--checkpoint` or the original's `-resume`.
    func testACheckpointIsNamedAlikeEverywhere() throws {
        let missing = "/nonexistent/run/checkpoint_latest.safetensors"
        for command in ["infer", "energy", "export-nir"] {
            for name in ["--checkpoint", "-resume", "--resume"] {
                var arguments = [command, name, missing]
                if command == "export-nir" { arguments += ["-o", "/nonexistent/out.nir"] }
                try assertTaken(arguments, missing)
            }
        }
    }

    /// bench takes train's names for the settings they share.
    func testBenchTakesTrainsNames() throws {
        for name in ["-T", "--time-steps", "-b", "--batch-size"] {
            try assertTaken(["bench", name, "0"], "must be positive")
        }
        for name in ["-model", "--model"] {
            try assertTaken(["bench", name, "no_such_model", "--steps", "1"], "no_such_model")
        }
        for name in ["-dataset", "--dataset"] {
            try assertTaken(["bench", name, "no_such_dataset", "--steps", "1"], "no_such_dataset")
        }
        for name in ["-data_dir", "--data-dir"] {
            try assertTaken(["bench", "--dataset", "cifar10", name, "/nonexistent/data", "--steps", "1"], "/nonexistent/data")
        }
    }
}
