import Foundation
import XCTest
@testable import Core

/// The run's arguments in checkpoints: the JSON form round-trips any text,
/// older checkpoints' `Namespace(…)` text still reads, and `args.txt` is
/// written as Python prints a Namespace.
final class RunArgumentsTests: XCTestCase {
    /// Names a user may give `-name`, each awkward for a `key=value, …` text.
    let awkwardNames = ["a, b", "it's", "say \"hi\"", "both ' and \"", "x=1, lr=5", "f(x) (y)", "Zürich→λ 🚀",
                        "back\\slash", "two\nlines", "", ")", "None", "True", "0.5"]

    func arguments(name: String) -> RunArguments {
        RunArguments([.init("T", .number("6")), .init("amp", .flag(false)), .init("b", .number("128")),
                      .init("lr", .number("1e-05")), .init("name", .text(name)), .init("pre_train", .none),
                      .init("seed", .number(String(UInt64.max))), .init("tau", .number("2.0"))])
    }

    func testJSONRoundTripsAwkwardValues() throws {
        for name in awkwardNames {
            let original = arguments(name: name)
            let read = try RunArguments(json: original.json, file: "c.safetensors")
            XCTAssertEqual(read["name"], name)
            assertSameValues(read, original)
        }
        let json = arguments(name: "a, b").json
        XCTAssertTrue(json.hasPrefix(#"{"format":"clif-mpi-arguments/1","values":{"T":6,"amp":false,"b":128,"lr":1e-05,"#), json)
        XCTAssertTrue(json.contains(#""pre_train":null,"seed":18446744073709551615,"tau":2"#), json)
    }

    /// Equal entries, numbers by value (JSON writes 2.0 as 2).
    func assertSameValues(_ read: RunArguments, _ original: RunArguments, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(read.entries.map(\.key), original.entries.map(\.key), file: file, line: line)
        for (a, b) in zip(read.entries, original.entries) {
            if case .number(let x) = a.value, case .number(let y) = b.value {
                XCTAssertEqual(Double(x), Double(y), a.key, file: file, line: line)
            } else {
                XCTAssertEqual(a.value, b.value, a.key, file: file, line: line)
            }
        }
    }

    func testCheckpointsKeepTheArgumentsAsJSON() throws {
        let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                                      activation: .spiking(NeuronConfig(model: .lif, surrogate: .rectangle))))
        for name in awkwardNames {
            let state = TrainingState(epoch: 1, globalStep: 3, maxTestAccuracy: 0.5, arguments: arguments(name: name), model: "m")
            let data = Checkpoint.encode(network: network, optimizer: nil, optimizerName: "SGD", state: state)
            XCTAssertNil(try SafeTensorsFile(data: data).metadata["args"], "only the JSON form is written")
            let loaded = try XCTUnwrap(Checkpoint.load(data, name: "c.safetensors", into: network))
            XCTAssertEqual(loaded.arguments["name"], name)
            XCTAssertEqual(loaded.arguments["b"], "128")
            XCTAssertEqual(loaded.recordedBatchSize, 128)
        }
    }

    /// A checkpoint written before the JSON form: its `args` text is read.
    func testOlderCheckpointsReadTheirNamespaceText() throws {
        let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                                      activation: .spiking(NeuronConfig(model: .lif, surrogate: .rectangle))))
        var writer = SafeTensorsWriter()
        for store in [network.parameters, network.buffers] {
            for entry in store.entries { writer.add(entry.name, shape: entry.shape, floats: Array(store.values[entry.range])) }
        }
        writer.metadata = ["format": Checkpoint.format, "model": "spiking_cnn_small", "epoch": "2", "global_step": "40",
                           "max_test_acc": "0.5", "batch_in_epoch": "3",
                           "args": "Namespace(T=4, b=48, data_dir='./data', lr=0.1, name='it's, (x=1)', pre_train=None, tau=2.0)"]
        let state = try XCTUnwrap(Checkpoint.load(writer.data(), name: "old.safetensors", into: network))
        XCTAssertEqual(state.arguments["name"], "it's, (x=1)")
        XCTAssertEqual(state.arguments["T"], "4")
        XCTAssertNil(state.arguments["pre_train"])
        XCTAssertEqual(state.recordedBatchSize, 48)

        // The committed conversion fixture was written by an older clif-mpi.
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/conversion/spiking_cnn_small_digits_clif.safetensors")
        let metadata = try SafeTensorsFile(data: Data(contentsOf: fixture)).metadata
        let recorded = try RunArguments.recorded(in: metadata, file: fixture.path)
        XCTAssertEqual([recorded["T"], recorded["b"], recorded["dataset"], recorded["neuron_model"], recorded["out_dir"]],
                       ["4", "64", "digits", "CLIF", "/tmp/conv-run"])
        XCTAssertEqual(recorded["name"], "")
        XCTAssertNil(recorded["resume"])
        XCTAssertEqual(recorded["mse_n_reg"], "False")
    }

    /// How older clif-mpi wrote the text (no escaping) and what comes back.
    func testNamespaceTextOfOlderCheckpoints() {
        let cases: [(String, String?)] = [
            ("name='a, b', lr=0.1", "a, b"), ("name='it's', lr=0.1", "it's"), ("name='x=1', lr=0.1", "x=1"),
            ("name='f(x)', lr=0.1", "f(x)"), ("name='Zürich→λ', lr=0.1", "Zürich→λ"), ("name='', lr=0.1", ""),
            ("name=None, lr=0.1", nil), ("lr=0.1, name='say \"hi\"'", "say \"hi\""),
        ]
        for (items, name) in cases {
            let read = RunArguments(namespace: "Namespace(\(items))")
            XCTAssertEqual(read["name"], name, items)
            XCTAssertEqual(read["lr"], "0.1", items)
        }
        for text in ["", "{}", "Namespace(", ")(", "Namespace()", "Namespace(=1, , x)"] {
            XCTAssertEqual(RunArguments(namespace: text), RunArguments(), text)
        }
    }

    /// `args.txt` quotes text as Python's repr does, so it reads as the original's.
    func testNamespaceTextIsPythonsRepr() {
        let expected = ["a, b": "'a, b'", "it's": #""it's""#, "say \"hi\"": #"'say "hi"'"#,
                        "both ' and \"": #"'both \' and "'"#, "back\\slash": #"'back\\slash'"#,
                        "two\nlines": #"'two\nlines'"#, "bell\u{7}": #"'bell\x07'"#, "Zürich→λ 🚀": "'Zürich→λ 🚀'"]
        for (name, repr) in expected {
            XCTAssertEqual(RunArguments.pythonRepr(name), repr, name)
        }
        XCTAssertEqual(arguments(name: "x").namespaceText,
                       "Namespace(T=6, amp=False, b=128, lr=1e-05, name='x', pre_train=None, seed=18446744073709551615, tau=2.0)")
    }

    func testDamagedJSONIsRefusedNamingTheFile() {
        for text in ["", "{", "[]", #"{"format":"clif-mpi-arguments/2","values":{}}"#, #"{"format":"clif-mpi-arguments/1"}"#,
                     #"{"format":"clif-mpi-arguments/1","values":{"b":[1]}}"#] {
            XCTAssertThrowsError(try RunArguments.recorded(in: ["arguments": text, "args": "Namespace(b=1)"], file: "bad.safetensors"), text) {
                XCTAssertTrue("\($0)".contains("bad.safetensors") && "\($0)".contains("metadata arguments"), "\($0)")
            }
        }
        XCTAssertEqual(try RunArguments.recorded(in: [:], file: "none"), RunArguments())
    }
}
