import Foundation
import XCTest

/// As in the original's argparse, an unambiguous prefix of a single-dash
/// option names it in every command (the original's run_inference_script
/// writes `-neuron` for `-neuron_model`), and a prefix of several is refused.
final class AbbreviationTests: XCTestCase {
    func run(_ arguments: [String]) throws -> Tool.Result { try Tool.run(try Tool.binary.path, arguments) }

    func testPrefixesNameTheirOption() throws {
        let lambda = try run(["train", "-loss_l", "-0.5"])
        XCTAssertNotEqual(lambda.status, 0)
        XCTAssertTrue(lambda.output.contains("-loss_lambda must be in [0, 1], got -0.5"), lambda.output)
        // -lr is a name of its own; a longer word still abbreviates -lr_scheduler.
        let scheduler = try run(["train", "-lr_s", "Foo"])
        XCTAssertTrue(scheduler.output.contains("'Foo' is invalid for '-lr_scheduler <lr_scheduler>'"), scheduler.output)
        // -neuron_model and -neuron are one option: their common prefix is not ambiguous.
        let neuron = try run(["infer", "-neur", "Izhikevich"])
        XCTAssertTrue(neuron.output.contains("'Izhikevich' is invalid for '-neuron_model <neuron_model>'"), neuron.output)
    }

    func testAmbiguousPrefixIsRefused() throws {
        let r = try run(["infer", "-data", "x"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("-data is ambiguous: it could be -data_dir, -dataset"), r.output)
    }
}
