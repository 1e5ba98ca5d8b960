import Foundation
import XCTest
@testable import Core

/// One test per defect the fuzz targets of fuzz/ found (fuzz/README.md):
/// each input, minimised by hand, must now give the reader's error, not a
/// trap, a hang or an unbounded allocation.
final class FuzzRegressionTests: XCTestCase {
    // MARK: - Pickle (fuzz target Pickle and CIFARPickle)

    /// DICT with an odd number of items after its MARK indexed past the end
    /// of the item list (a trap); SETITEMS already checked this.
    func testPickleDictWithOddItemCount() {
        // PROTO 2, MARK, BININT1 1, DICT, STOP
        assertDataError(["DICT with an odd number (1) of keys and values"]) {
            _ = try Pickle.parse([0x80, 0x02, 0x28, 0x4B, 0x01, 0x64, 0x2E], name: "odd.pkl", allowing: .plainData)
        }
    }

    /// A dict key made of a tuple holding one memoized tuple twice, nested 60
    /// deep, has 2^60 items: hashing it never ended. Its size is now capped.
    func testPickleSelfSharingTupleKeyIsRefusedQuickly() {
        var bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x4B, 0x00]  // PROTO 2, EMPTY_DICT, BININT1 0
        for level in 0..<60 {
            // BINPUT level, BINGET level, TUPLE2: (x, x)
            bytes += [0x71, UInt8(level), 0x68, UInt8(level), 0x86]
        }
        bytes += [0x4E, 0x73, 0x2E]  // NONE, SETITEM, STOP
        let start = Date()
        assertDataError(["a dict key of more than 10000 items"]) {
            _ = try Pickle.parse(bytes, name: "tuple-bomb.pkl", allowing: .plainData)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "refusing the key took too long")
    }

    // MARK: - .pth tensors (fuzz target TorchCheckpoint; found reviewing the reader for it)

    /// An empty tensor whose other dimensions are huge ([0, 2^40, 2^40]) made
    /// the row-major strides overflow (a trap). It now reads as the empty
    /// tensor it is, and survives the conversion to safetensors and back.
    func testEmptyTorchTensorWithHugeDimensions() throws {
        let archive = try ZipArchive(data: Data(contentsOf: Fixture.root.appendingPathComponent("pth/views.pth")),
                                     name: "views.pth")
        var reader = TensorReader(zip: archive, prefix: "views/", file: "views.pth")
        // views/data/0 holds 96 bytes: 24 float32.
        let storage = PickleValue.persistent(.tuple([.string("storage"), .global(PickleGlobal("torch", "FloatStorage")),
                                                     .string("0"), .string("cpu"), .int(24)]))
        let huge = 1 << 40
        let call = PickleCall(callee: PickleGlobal("torch._utils", "_rebuild_tensor_v2"),
                              arguments: [storage, .int(0), .tuple([.int(0), .int(huge), .int(huge)]),
                                          .tuple([.int(1), .int(1), .int(1)]), .bool(false), .none],
                              isNewObject: false, state: nil, listItems: [], dictItems: [])
        let tensor = try reader.tensor(.call(call), what: "empty")
        XCTAssertEqual(tensor.shape, [0, huge, huge])
        XCTAssertEqual(tensor.bytes.count, 0)
        let converted = TorchCheckpoint.safetensorsData(TorchCheckpointContents(tensors: [("empty", tensor)]))
        XCTAssertEqual(try SafeTensorsFile(data: converted).tensors["empty"]?.shape, [0, huge, huge])
        // A non-empty tensor with such sizes is still refused by the size check.
        var tooLarge = call
        tooLarge.arguments[2] = .tuple([.int(huge), .int(huge), .int(0)])
        XCTAssertThrowsError(try reader.tensor(.call(tooLarge), what: "huge")) { error in
            XCTAssertTrue("\(error)".contains("too large"), "\(error)")
        }
    }
}
