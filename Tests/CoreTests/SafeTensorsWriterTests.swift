import Foundation
import XCTest
@testable import Core

/// The safetensors writer's bulk byte copy against the value-by-value reference.
final class SafeTensorsWriterTests: XCTestCase {
    /// Awkward sizes and values whose bytes are easy to get wrong: −0, NaN with a
    /// payload, infinities, subnormals, and integers with every byte different.
    func testBulkBytesMatchTheReference() {
        let specials: [Float] = [-0.0, .infinity, -.infinity, Float(bitPattern: 0x7FC0_1234),
                                 .leastNonzeroMagnitude, -.greatestFiniteMagnitude, 1.5]
        for count in [0, 1, 7, 8, 9, 1023] {
            let floats = (0..<count).map { i in i < specials.count ? specials[i] : Float(i) * 0.37 - 11 }
            let bits = floats.map(\.bitPattern)
            XCTAssertEqual(SafeTensorsWriter.littleEndianBytes(bits), SafeTensorsWriter.littleEndianBytesReference(bits),
                           "float bit patterns, count \(count)")
            let integers = (0..<count).map { Int64($0) &* 0x0102_0304_0506_0708 &- 3 }
            XCTAssertEqual(SafeTensorsWriter.littleEndianBytes(integers), SafeTensorsWriter.littleEndianBytesReference(integers),
                           "int64, count \(count)")
        }
    }

    /// A file written by the writer reads back to the same values.
    func testWrittenFileReadsBack() throws {
        var writer = SafeTensorsWriter()
        let floats: [Float] = [-0.0, 1, 2.5, .infinity, -7, 3e-39, 9]
        writer.add("w", shape: [7], floats: floats)
        writer.add("n", shape: [1, 2], int64s: [-2, 0x0102_0304_0506_0708])
        let bytes = writer.data()
        // Bytes 8… hold the header; tensor data follows it in the order added.
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        let body = bytes.dropFirst(8 + headerLength)
        let readFloats = (0..<7).map { i -> Float in
            let start = body.startIndex + 4 * i
            return Float(bitPattern: UInt32(littleEndian: body[start..<(start + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
        }
        XCTAssertEqual(readFloats.map(\.bitPattern), floats.map(\.bitPattern))
        let start = body.startIndex + 28 + 8
        XCTAssertEqual(Int64(littleEndian: body[start..<(start + 8)].withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }),
                       0x0102_0304_0506_0708)
    }
}
