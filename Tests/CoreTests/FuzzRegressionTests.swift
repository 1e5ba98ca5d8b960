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
}
