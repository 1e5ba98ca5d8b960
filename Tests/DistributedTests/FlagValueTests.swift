import Foundation
import XCTest

/// The options that take one of a fixed set of names (-neuron_model,
/// -surrogate, -opt, -lr_scheduler, --bn, --on-nan, -split_by): a bad name
/// is refused in one line naming the flag and listing the names, the help
/// lists them, and -neuron_model and -opt take any letter case, kept as
/// typed in the run folder's name and args.txt (as the original keeps them).
final class FlagValueTests: XCTestCase {
    func testBadNameIsRefusedInOneLineListingTheNames() throws {
        let cases: [(flag: String, value: String, names: String)] = [
            ("-neuron_model", "HH", "'LIF', 'CLIF', 'PLIF' or 'relu'"),
            ("-surrogate", "Sigmoid", "'rectangle', 'sigmoid' or 'triangle'"),
            ("-opt", "Adam", "'SGD' and 'AdamW'"),
            ("-lr_scheduler", "cosalr", "'CosALR' and 'StepLR'"),
            ("--bn", "global", "'sync' and 'local'"),
            ("--on-nan", "ignore", "'stop' and 'skip'"),
            ("-split_by", "count", "'number' and 'time'"),
        ]
        for (flag, value, names) in cases {
            let r = try Tool.run(try Tool.binary.path, ["train", flag, value])
            XCTAssertNotEqual(r.status, 0, "\(flag) \(value) should fail")
            let line = r.output.split(separator: "\n").first { $0.contains("'\(value)' is invalid for '\(flag) <") }
            XCTAssertNotNil(line, "\(flag) \(value): \(r.output)")
            XCTAssertTrue(line?.hasSuffix(". Please provide one of \(names).") ?? false, "\(flag) \(value): \(r.output)")
        }
        let infer = try Tool.run(try Tool.binary.path, ["infer", "-neuron", "HH"])
        XCTAssertNotEqual(infer.status, 0)
        XCTAssertTrue(infer.output.contains("'HH' is invalid for '-neuron <"), infer.output)
    }

    func testHelpListsTheNames() throws {
        let help = try Tool.run(try Tool.binary.path, ["train", "--help"]).output
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for expected in ["(values: LIF, CLIF, PLIF, relu; default: LIF)", "(values: rectangle, sigmoid, triangle; default: rectangle)",
                         "(values: SGD, AdamW; default: SGD)", "(values: CosALR, StepLR; default: CosALR)",
                         "(values: sync, local; default: sync)", "(values: stop, skip; default: stop)",
                         "(values: number, time; default: number)"] {
            XCTAssertTrue(help.contains(expected), "help lacks \(expected): \(help)")
        }
    }

    func testNeuronAndOptimizerKeepTheirSpelling() throws {
        let out = try Tool.temporaryFolder("spelling")
        let r = try Tool.run(try Tool.binary.path, ["train", "-dataset", "digits", "-model", "spiking_cnn_small", "-T", "2",
                                                     "-b", "64", "-epochs", "1", "-T_max", "1", "-neuron", "plif",
                                                     "-opt", "adamw", "--max-steps", "1", "-out_dir", out.path])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains(" parameters), plif, T=2"), r.output)
        let folder = try Tool.runFolder(out)
        XCTAssertTrue(folder.lastPathComponent.contains("_bs64_adamw_lr0.1_"), folder.lastPathComponent)
        let args = try String(contentsOf: folder.appendingPathComponent("args.txt"), encoding: .utf8)
        for expected in ["neuron_model='plif'", "opt='adamw'", "lr_scheduler='CosALR'", "surrogate='rectangle'"] {
            XCTAssertTrue(args.contains(expected), "args.txt lacks \(expected): \(args)")
        }
        // inference.py names its log folder with the neuron as given.
        let inferOut = try Tool.temporaryFolder("spelling-infer")
        let infer = try Tool.run(try Tool.binary.path, ["infer", "-dataset", "digits", "-model", "spiking_cnn_small", "-T", "2",
                                                         "-neuron", "clif", "-out_dir", inferOut.path])
        XCTAssertEqual(infer.status, 0, infer.output)
        XCTAssertTrue(infer.output.contains("inference_digits_spiking_cnn_small__T2_tau2.0_bs128_clif__amp"), infer.output)
    }
}
