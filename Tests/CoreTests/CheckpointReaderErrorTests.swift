import Foundation
import XCTest
@testable import Core

/// The exact refusals of the safetensors, `.pth` archive and optimizer
/// state_dict readers for inputs damaged in one field each.
final class CheckpointReaderErrorTests: XCTestCase {
    /// An 8-byte little-endian header length, the header, then `body`.
    private func safetensors(_ header: String, body: Data = Data()) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        return data + Data(header.utf8) + body
    }

    private func assertRefused(_ data: Data, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile(data: data, name: "m.safetensors"), line: line) { error in
            XCTAssertEqual("\(error)", "m.safetensors: not a valid safetensors file: \(expected)", line: line)
        }
    }

    func testSafeTensorsEntriesAreReadInOffsetOrder() throws {
        let body = Data([1, 0, 0, 0, 2, 0, 0, 0, 3])
        let file = try SafeTensorsFile(data: safetensors(
            #"{"b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"},"a":{"dtype":"U8","shape":[],"data_offsets":[8,9]}}"#,
            body: body))
        XCTAssertEqual(file.names, ["b", "a"])
        XCTAssertEqual(file.metadata, ["k": "v"])
        XCTAssertEqual(file.tensors["b"]?.shape, [2])
        XCTAssertEqual(file.tensors["b"]?.floats, [1, 2])
        XCTAssertEqual(file.tensors["a"]?.floats, [3])
    }

    func testSafeTensorsHeaderProblemsAreNamed() {
        assertRefused(safetensors("[1]"), "the header is not a JSON object")
        assertRefused(safetensors(#"{"__metadata__":[]}"#), "__metadata__ is not an object")
        assertRefused(safetensors(#"{"__metadata__":{"k":1}}"#), "__metadata__ value for k is not a string")
        assertRefused(safetensors(#"{"t":{"dtype":"F32","shape":[1]}}"#),
                      "the entry for tensor t lacks dtype, shape or data_offsets")
        assertRefused(safetensors(#"{"t":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, body: Data(count: 2)),
                      "tensor t has dtype F16; supported: F32, F64, I64, I32, U8, BOOL")
        assertRefused(safetensors(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, body: Data(count: 4)),
                      "tensor t has 4 bytes for shape [2] of F32 (8 expected)")
        XCTAssertThrowsError(try SafeTensorsFile(data: safetensors(
            #"{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#))) { error in
            XCTAssertTrue("\(error)".hasSuffix("tensor t has an invalid shape [-1]"), "\(error)")
        }
        XCTAssertThrowsError(try SafeTensorsFile(data: safetensors(
            #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}"#, body: Data(count: 4)))) { error in
            XCTAssertTrue("\(error)".contains("tensor t has data_offsets") && "\(error)".hasSuffix("outside the 4 data bytes"),
                          "\(error)")
        }
    }

    // MARK: - ZIP archives

    private func archive() throws -> Data {
        var zip = ZipWriter()
        try zip.add("a/data.pkl", Data([1, 2, 3]))
        try zip.add("a/data/0", Data(count: 8))
        return try zip.finished()
    }

    private func assertZipRefused(_ data: Data, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try ZipArchive(data: data, name: "m.pth"), line: line) { error in
            XCTAssertEqual("\(error)", "m.pth: not a readable PyTorch checkpoint archive: \(expected)", line: line)
        }
    }

    func testZipDirectoryProblemsAreNamed() throws {
        let good = try archive()
        XCTAssertEqual(try ZipArchive(data: good, name: "m.pth").names, ["a/data.pkl", "a/data/0"])
        let end = good.count - 22
        let directory = Int(good[end + 16]) | Int(good[end + 17]) << 8

        var disks = good
        disks[end + 4] = 1
        assertZipRefused(disks, "it spans several disks, which torch never writes")

        var unsigned = good
        unsigned[directory] = 0
        assertZipRefused(unsigned, "central directory entry 0 at byte \(directory) lacks its signature")

        var tooMany = good
        tooMany[end + 10] = 9
        assertZipRefused(tooMany, "the central directory claims 9 entries in \(end - directory) bytes")

        var twice = ZipWriter()
        try twice.add("a/x", Data([1]))
        try twice.add("a/x", Data([2]))
        assertZipRefused(try twice.finished(), "it holds two entries named a/x")
    }

    // MARK: - Optimizer state_dict

    private func optimizerState(groups: [PickleValue], state: [PickleEntry]) throws -> TorchOptimizerState {
        var reader = TensorReader(zip: try ZipArchive(data: archive(), name: "f.pth"), prefix: "a/", file: "f.pth")
        let scalar = SafeTensor(type: .f32, shape: [1], bytes: Data(count: 4))
        let tensors = [("w", scalar), ("bn.running_mean", scalar), ("b", scalar)]
        let value = PickleValue.dict([PickleEntry(key: .string("state"), value: .dict(state)),
                                      PickleEntry(key: .string("param_groups"), value: .list(groups))])
        return try TorchCheckpoint.optimizerState(value, tensors: tensors, reader: &reader)
    }

    private func group(_ ids: [Int], _ settings: [(String, PickleValue)] = []) -> PickleValue {
        .dict([PickleEntry(key: .string("params"), value: .list(ids.map { .int($0) }))]
              + settings.map { PickleEntry(key: .string($0.0), value: $0.1) })
    }

    private func steps(_ id: Int, _ step: PickleValue) -> PickleEntry {
        PickleEntry(key: .int(id), value: .dict([PickleEntry(key: .string("step"), value: step)]))
    }

    func testOptimizerStateMapsIdsToParameterNames() throws {
        let state = try optimizerState(
            groups: [group([1, 0], [("lr", .float(0.1)), ("betas", .tuple([.float(0.9), .float(0.999)]))])],
            state: [steps(0, .float(5)), steps(1, .int(3))])
        XCTAssertEqual(state.name, "AdamW")
        XCTAssertEqual(state.parameters, ["w", "b"])
        XCTAssertEqual(state.hyperparameters, ["lr": 0.1, "beta1": 0.9, "beta2": 0.999])
        XCTAssertEqual(state.scalars.map(\.parameter), ["w", "b"])
        XCTAssertEqual(state.scalars.map(\.value), [3, 5])
    }

    func testOptimizerStateProblemsAreNamed() {
        func assertRefused(_ groups: [PickleValue], _ state: [PickleEntry], _ expected: String, line: UInt = #line) {
            XCTAssertThrowsError(try optimizerState(groups: groups, state: state), line: line) { error in
                XCTAssertEqual("\(error)", "f.pth: the optimizer state_dict \(expected)", line: line)
            }
        }
        assertRefused([group([0]), .dict([])], [], "param group 1 lacks 'params'")
        assertRefused([group([0])], [], "lists 1 parameters, but the model's state_dict has 2 parameters besides BatchNorm buffers; the checkpoint's optimizer does not match its 'net'")
        assertRefused([.dict([PickleEntry(key: .string("params"), value: .list([.string("p")]))])], [],
                      "param group 0 has the parameter id the str 'p'")
        assertRefused([group([0, 1])], [steps(7, .int(1))],
                      "has state for the parameter id the int 7, which no param group lists")
        assertRefused([group([0, 1])], [PickleEntry(key: .int(0), value: .int(1))], "has the int 1 as parameter 0's state")
        assertRefused([group([0, 1])], [PickleEntry(key: .int(0), value: .dict([PickleEntry(key: .int(2), value: .none)]))],
                      "has the state key the int 2")
    }
}
