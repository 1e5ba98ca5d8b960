import Foundation
import XCTest
@testable import Core

/// The fixtures of Tests/Fixtures/data, written by tools/make_data_fixtures.py.
enum DataFixtures {
    static var root: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("data")
    }

    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    /// make_data_fixtures.py's pixel(): byte j of image n in the file with this seed.
    static func pixel(seed: Int, image n: Int, byte j: Int) -> UInt8 {
        UInt8((seed * 101 + n * 37 + j * 7 + (j >> 5) * 3) & 0xFF)
    }

    static func images(seed: Int, count: Int) -> [UInt8] {
        (0..<count).flatMap { n in (0..<3072).map { pixel(seed: seed, image: n, byte: $0) } }
    }

    static func cifar10Labels(seed: Int, count: Int) -> [Int] { (0..<count).map { (seed * 3 + $0 * 7) % 10 } }
    static func cifar100Fine(seed: Int, count: Int) -> [Int] { (0..<count).map { ($0 * 37 + 99 + seed) % 100 } }
}

/// A fresh directory, deleted when the test ends.
func makeScratchDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("clif-data-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Asserts `body` throws a `DataError` whose message contains every fragment.
func assertDataError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected a DataError containing \(fragments)", file: file, line: line)
    } catch let error as DataError {
        for fragment in fragments where !error.description.contains(fragment) {
            XCTFail("message lacks '\(fragment)': \(error.description)", file: file, line: line)
        }
    } catch {
        XCTFail("expected a DataError, got \(error)", file: file, line: line)
    }
}

/// Bytes from a string whose characters are all U+0000…U+00FF (one byte each).
func latin1(_ text: String) -> [UInt8] { text.unicodeScalars.map { UInt8($0.value) } }

final class PickleTests: XCTestCase {
    func load(_ path: String, allowing allowlist: Pickle.Allowlist = .numpyArrays) throws -> PickleValue {
        try Pickle.load(contentsOf: DataFixtures.url(path), allowing: allowlist)
    }

    func evil(_ bytes: [UInt8], allowing allowlist: Pickle.Allowlist = .numpyArrays) throws -> PickleValue {
        try Pickle.parse(bytes, name: "evil.pkl", allowing: allowlist)
    }

    // MARK: - Values, as Python 3 writes them

    func testValuesProtocols2And4() throws {
        for path in ["pickle/values_protocol2.pkl", "pickle/values_protocol4.pkl"] {
            let root = try load(path)
            func array(_ key: String) throws -> NumPyArray { try NumPyArray(try XCTUnwrap(root[key]), source: key) }
            guard case .none? = root["none"], case .bool(true)? = root["true"], case .bool(false)? = root["false"]
            else { return XCTFail("\(path): None/True/False") }
            XCTAssertEqual(root["int1"]?.integer, 200, path)
            XCTAssertEqual(root["int2"]?.integer, 60000, path)
            XCTAssertEqual(root["int4"]?.integer, -5, path)
            XCTAssertEqual(root["long"]?.integer, 1 << 40, path)
            XCTAssertEqual(root["min_int64"]?.integer, Int.min, path)
            guard case .float(1.5)? = root["float"] else { return XCTFail("\(path): float") }
            guard case .string("h\u{e9}llo \u{2713}")? = root["text"] else { return XCTFail("\(path): text") }
            guard case .bytes([0, 255])? = root["bytes"], case .bytes([])? = root["empty_bytes"]
            else { return XCTFail("\(path): bytes \(String(describing: root["bytes"]))") }
            guard case .tuple(let t)? = root["tuple"], t.count == 4, t[0].integer == 1,
                  t[1].elements?.compactMap(\.integer) == [2, 3], case .list([]) = t[2], case .tuple([]) = t[3]
            else { return XCTFail("\(path): tuple") }
            guard case .tuple(let shared)? = root["shared"], shared.count == 2,
                  shared.allSatisfy({ $0.elements?.compactMap(\.integer) == [7] })
            else { return XCTFail("\(path): shared list") }

            let u1 = try array("u1")
            XCTAssertEqual(u1.dtype, "|u1"); XCTAssertEqual(u1.shape, [2, 3])
            XCTAssertEqual(try u1.uint8Values(source: "u1"), [0, 1, 2, 3, 4, 5])
            let i8 = try array("i8")
            XCTAssertEqual(i8.dtype, "<i8")
            XCTAssertEqual(try i8.integerValues(source: "i8"), [-3, 0, 1 << 40])
            let i4 = try array("i4_big_endian")
            XCTAssertEqual(i4.dtype, ">i4")
            XCTAssertEqual(try i4.integerValues(source: "i4"), [1, -2, 70000])
            XCTAssertEqual(try array("u2").integerValues(source: "u2"), [0, 65535])
            let empty = try array("empty_u1")
            XCTAssertEqual(empty.shape, [0, 3]); XCTAssertEqual(empty.count, 0)
            assertDataError(["i8", "uint8"]) { _ = try i8.uint8Values(source: "i8") }
        }
    }

    // MARK: - CIFAR pickles

    /// The form of the original batches (Python 2 cPickle, protocol 2).
    func testPython2CIFARBatchStructure() throws {
        let root = try load("cifar-10-batches-py/data_batch_1")
        guard case .dict(let entries) = root else { return XCTFail("root is \(root.summary)") }
        XCTAssertEqual(entries.compactMap { if case .bytes(let b) = $0.key { String(decoding: b, as: UTF8.self) } else { nil } },
                       ["batch_label", "labels", "data", "filenames"])
        guard case .call(let data)? = root["data"] else { return XCTFail("data") }
        XCTAssertEqual(data.callee, PickleGlobal("numpy.core.multiarray", "_reconstruct"))
        guard data.arguments.count == 3, case .global(PickleGlobal("numpy", "ndarray")) = data.arguments[0],
              case .bytes(latin1("b")) = data.arguments[2] else { return XCTFail("_reconstruct arguments") }
        guard let state = data.state?.elements, state.count == 5, case .call(let dtype) = state[2],
              dtype.arguments.count == 3, case .bytes(latin1("u1")) = dtype.arguments[0], dtype.arguments[1].integer == 0
        else { return XCTFail("array state") }
        let array = try NumPyArray(.call(data), source: "data")
        XCTAssertEqual(array.shape, [3, 3072]); XCTAssertEqual(array.dtype, "|u1")
        XCTAssertEqual(array.bytes, DataFixtures.images(seed: 1, count: 3))
        XCTAssertEqual(try root["labels"]?.integerArray(source: "labels"), DataFixtures.cifar10Labels(seed: 1, count: 3))
        XCTAssertEqual(root["batch_label"]?.text, "training batch 1 of 5")
        XCTAssertEqual(root["filenames"]?.elements?.compactMap(\.text), ["image_1_0.png", "image_1_1.png", "image_1_2.png"])
    }

    /// The same batch re-pickled by Python 3 + NumPy 2: `_codecs.encode` bytes
    /// (protocol 2), `numpy._core` (4), `_frombuffer` + BYTEARRAY8 (5).
    func testPython3CIFARBatchProtocols() throws {
        for protocolVersion in [2, 4, 5] {
            let root = try load("pickle/cifar10_py3_protocol\(protocolVersion).pkl")
            let array = try NumPyArray(try XCTUnwrap(root["data"]), source: "data")
            XCTAssertEqual(array.shape, [3, 3072], "protocol \(protocolVersion)")
            XCTAssertEqual(array.bytes, DataFixtures.images(seed: 1, count: 3), "protocol \(protocolVersion)")
            XCTAssertEqual(try root["labels"]?.integerArray(source: "labels"), [3, 0, 7])
            guard case .bytes(latin1("training batch 1 of 5"))? = root["batch_label"] else {
                return XCTFail("protocol \(protocolVersion): batch_label \(String(describing: root["batch_label"]))")
            }
        }
    }

    /// A torch.save state dict's data.pkl: OrderedDict, _rebuild_tensor_v2,
    /// storages as persistent ids, and BUILD with `_metadata`.
    func testTorchStateDictStructure() throws {
        let torch = Pickle.Allowlist(
            callables: [PickleGlobal("collections", "OrderedDict"), PickleGlobal("torch._utils", "_rebuild_tensor_v2")],
            names: [PickleGlobal("torch", "FloatStorage"), PickleGlobal("torch", "LongStorage")], persistentIDs: true)
        let root = try load("pickle/torch_state_dict_data.pkl", allowing: torch)
        guard case .call(let dict) = root else { return XCTFail("root is \(root.summary)") }
        XCTAssertEqual(dict.callee, PickleGlobal("collections", "OrderedDict"))
        XCTAssertEqual(root.keyNames, ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                       "1.num_batches_tracked"])
        guard case .call(let weight)? = root["0.weight"], weight.arguments.count == 6,
              case .persistent(let id) = weight.arguments[0], let parts = id.elements, parts.count == 5,
              case .global(PickleGlobal("torch", "FloatStorage")) = parts[1]
        else { return XCTFail("0.weight") }
        XCTAssertEqual(parts[2].text, "0")
        XCTAssertEqual(parts[4].integer, 6)
        XCTAssertEqual(weight.arguments[2].elements?.compactMap(\.integer), [3, 2])
        XCTAssertEqual(weight.arguments[3].elements?.compactMap(\.integer), [2, 1])
        XCTAssertNotNil(dict.state?["_metadata"])

        assertDataError(["torch_state_dict_data.pkl", "BINPERSID"]) {
            var noIDs = torch
            noIDs.persistentIDs = false
            _ = try self.load("pickle/torch_state_dict_data.pkl", allowing: noIDs)
        }
        assertDataError(["torch_state_dict_data.pkl", "byte 2", "collections.OrderedDict"]) {
            _ = try self.load("pickle/torch_state_dict_data.pkl")
        }
    }

    // MARK: - Refusals

    func testRefusesForeignGlobals() throws {
        // GLOBAL 'os system', ('ls',), REDUCE: what a malicious pickle does.
        assertDataError(["evil.pkl", "byte 2", "os.system", "numpy.dtype()"]) {
            _ = try self.evil(latin1("\u{80}\u{02}cos\nsystem\nq\u{00}X\u{02}\u{00}\u{00}\u{00}ls\u{85}R."))
        }
        assertDataError(["evil.pkl", "byte 14", "os.system"]) {
            _ = try self.evil(latin1("\u{80}\u{04}\u{8C}\u{02}os\u{8C}\u{06}system\u{93}X\u{02}\u{00}\u{00}\u{00}ls\u{85}R."))
        }
        assertDataError(["evil.pkl", "numpy.dtype"]) {
            _ = try self.evil(latin1("\u{80}\u{02}cnumpy\ndtype\n."), allowing: .plainData)
        }
    }

    func testRefusesCallsThatAreNotAllowed() throws {
        assertDataError(["evil.pkl", "byte 18", "REDUCE of numpy.ndarray"]) {
            _ = try self.evil(latin1("\u{80}\u{02}cnumpy\nndarray\n)R."))
        }
        assertDataError(["evil.pkl", "NEWOBJ of numpy.ndarray"]) {
            _ = try self.evil(latin1("\u{80}\u{02}cnumpy\nndarray\n)\u{81}."))
        }
        assertDataError(["evil.pkl", "REDUCE of the int 1"]) { _ = try self.evil(latin1("\u{80}\u{02}K\u{01})R.")) }
        assertDataError(["evil.pkl", "_codecs.encode"]) {
            _ = try self.evil(latin1("\u{80}\u{02}c_codecs\nencode\nX\u{01}\u{00}\u{00}\u{00}aX\u{05}\u{00}\u{00}\u{00}rot13\u{86}R."))
        }
        assertDataError(["evil.pkl", "BUILD on a dict"]) { _ = try self.evil(latin1("\u{80}\u{02}}}b.")) }
        assertDataError(["evil.pkl", "BINPERSID"]) { _ = try self.evil(latin1("\u{80}\u{02}K\u{01}Q.")) }
    }

    func testRefusesLengthsBeyondTheFile() throws {
        let cases: [(String, String)] = [
            ("\u{80}\u{04}\u{8D}\u{FF}\u{FF}\u{FF}\u{FF}\u{FF}\u{FF}\u{FF}\u{7F}abc.", "BINUNICODE8 claiming 9223372036854775807"),
            ("\u{80}\u{04}\u{8E}\u{00}\u{00}\u{00}\u{00}\u{01}\u{00}\u{00}\u{00}.", "BINBYTES8 claiming 4294967296"),
            ("\u{80}\u{02}X\u{FF}\u{FF}\u{FF}\u{FF}.", "BINUNICODE claiming 4294967295"),
            ("\u{80}\u{02}B\u{00}\u{00}\u{00}\u{10}.", "BINBYTES claiming 268435456"),
            ("\u{80}\u{02}T\u{00}\u{00}\u{00}\u{80}.", "negative length"),
            ("\u{80}\u{02}U\u{09}abc.", "SHORT_BINSTRING claiming 9"),
            ("\u{80}\u{04}\u{95}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{10}\u{00}N.", "FRAME claiming"),
            ("\u{80}\u{02}J\u{01}\u{02}", "BININT claiming 4"),
        ]
        for (bytes, fragment) in cases {
            assertDataError(["evil.pkl", "byte 2", fragment]) { _ = try self.evil(latin1(bytes)) }
        }
    }

    func testRefusesDeepNestingAndCycles() throws {
        // (((…(1,)…),),): 1,000 TUPLE1s.
        let chain = latin1("\u{80}\u{02}K\u{01}") + [UInt8](repeating: 0x85, count: 1000) + latin1(".")
        assertDataError(["evil.pkl", "nesting deeper than 100"]) { _ = try self.evil(chain) }
        let marks = latin1("\u{80}\u{02}") + [UInt8](repeating: 0x28, count: 500) + [UInt8](repeating: 0x74, count: 500)
            + latin1(".")
        assertDataError(["evil.pkl", "nesting deeper than 100"]) { _ = try self.evil(marks) }
        // Exactly at the limit is fine: 99 TUPLE1s around an int.
        let fine = latin1("\u{80}\u{02}K\u{01}") + [UInt8](repeating: 0x85, count: 100) + latin1(".")
        XCTAssertNoThrow(try evil(fine))
        // l = []; l.append(l)
        assertDataError(["evil.pkl", "byte 2", "contains itself"]) { _ = try self.evil(latin1("\u{80}\u{02}]q\u{00}h\u{00}a.")) }
    }

    func testRefusesMalformedStreams() throws {
        let cases: [(String, [String])] = [
            ("\u{80}\u{02}\u{FF}.", ["byte 2", "unknown opcode (0xFF)"]),
            ("\u{80}\u{02}I1\n.", ["byte 2", "opcode INT"]),
            ("\u{80}\u{02}cos\nsystem\n)i.", ["os.system"]),
            ("\u{80}\u{06}N.", ["protocol 6"]),
            ("\u{80}\u{02}h\u{05}.", ["byte 2", "BINGET 5"]),
            ("\u{80}\u{02}j\u{00}\u{00}\u{00}\u{01}.", ["LONG_BINGET 16777216"]),
            ("\u{80}\u{02}\u{86}.", ["TUPLE2 on an empty stack"]),
            ("\u{80}\u{02}]K\u{01}(a.", ["byte 6", "APPEND on an empty stack"]),
            ("\u{80}\u{02}K\u{01}t.", ["TUPLE without a MARK"]),
            ("\u{80}\u{02}}]K\u{01}s.", ["unhashable"]),
            ("\u{80}\u{02}}(K\u{01}u.", ["odd number"]),
            ("\u{80}\u{02}K\u{01}K\u{02}.", ["2 values on the stack"]),
            ("\u{80}\u{02}(K\u{01}.", ["MARK(s) still open"]),
            ("\u{80}\u{02}\u{8A}\u{09}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{01}.", ["wider than 64 bits"]),
            ("\u{80}\u{02}X\u{02}\u{00}\u{00}\u{00}\u{FF}\u{FE}.", ["not valid UTF-8"]),
            ("\u{80}\u{02}K\u{01}", ["without its STOP", "truncated"]),
        ]
        for (bytes, fragments) in cases {
            assertDataError(["evil.pkl"] + fragments) { _ = try self.evil(latin1(bytes)) }
        }
        // LONG1 of nine bytes that still fits: -1.
        XCTAssertEqual(try evil(latin1("\u{80}\u{02}\u{8A}\u{09}") + [UInt8](repeating: 0xFF, count: 9) + latin1("."))
            .integer, -1)
        // Duplicate keys: the last value wins, in the first key's place (as in Python).
        let dict = try evil(latin1("\u{80}\u{02}}(K\u{01}K\u{02}K\u{03}K\u{04}\u{88}K\u{05}u."))
        guard case .dict(let entries) = dict else { return XCTFail("dict") }
        XCTAssertEqual(entries.map { $0.value.integer }, [5, 4])
    }

    func testTruncatedAndMissingFilesNameTheFile() throws {
        let directory = try makeScratchDirectory(self)
        let original = try Data(contentsOf: DataFixtures.url("cifar-10-batches-py/data_batch_1"))
        for cut in [1, 200, 5000, original.count - 1] {
            let url = directory.appendingPathComponent("cut_\(cut)")
            try original.prefix(cut).write(to: url)
            assertDataError([url.path, "truncated"]) { _ = try Pickle.load(contentsOf: url, allowing: .numpyArrays) }
        }
        let evil = directory.appendingPathComponent("evil.pkl")
        try Data(latin1("\u{80}\u{02}cos\nsystem\n.")).write(to: evil)
        assertDataError([evil.path, "os.system"]) { _ = try Pickle.load(contentsOf: evil, allowing: .numpyArrays) }
        let missing = directory.appendingPathComponent("absent.pkl")
        assertDataError([missing.path, "cannot read"]) { _ = try Pickle.load(contentsOf: missing, allowing: .numpyArrays) }
    }

    func testNumPyArrayRefusals() throws {
        let root = try load("pickle/values_protocol4.pkl")
        assertDataError(["k", "found the int 200"]) { _ = try NumPyArray(root["int1"]!, source: "k") }
        // A state whose byte count disagrees with the shape.
        guard case .call(var call)? = root["u1"], case .tuple(var state)? = call.state else { return XCTFail("u1") }
        state[4] = .bytes([1, 2, 3])
        call.state = .tuple(state)
        assertDataError(["k", "needs 6 × 1 bytes but 3"]) { _ = try NumPyArray(.call(call), source: "k") }
        state[3] = .bool(true)
        state[4] = .bytes([0, 1, 2, 3, 4, 5])
        call.state = .tuple(state)
        assertDataError(["k", "Fortran order"]) { _ = try NumPyArray(.call(call), source: "k") }
    }
}
