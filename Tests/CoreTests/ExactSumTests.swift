import XCTest
@testable import Core

final class ExactSumTests: XCTestCase {
    /// The total must not depend on how the chunks are grouped or ordered.
    func testOrderAndGroupingDoNotChangeBits() {
        var stream = RandomStream(seed: 1, 2)
        let chunks = 12, count = 1023
        let partials = (0..<(chunks * count)).map { _ in stream.normal() * Float(1 << stream.integer(below: 20)) }
        let whole = LocalReducer().sum(partials, chunks: chunks, count: count)
        // Reversed chunk order.
        let reversed = (0..<chunks).reversed().flatMap { Array(partials[($0 * count)..<(($0 + 1) * count)]) }
        XCTAssertEqual(LocalReducer().sum(reversed, chunks: chunks, count: count), whole)
        // Split across three "ranks" that agree on the exponent and add integers.
        var exponent = Int32.min
        for r in 0..<3 {
            let part = Array(partials[(r * 4 * count)..<((r + 1) * 4 * count)])
            exponent = max(exponent, part.withUnsafeBufferPointer { ExactSum.exponent(of: $0.baseAddress!, count: $0.count) })
        }
        var fixed = [Int64](repeating: 0, count: count)
        for r in [2, 0, 1] {
            let part = Array(partials[(r * 4 * count)..<((r + 1) * 4 * count)])
            part.withUnsafeBufferPointer { p in
                fixed.withUnsafeMutableBufferPointer { f in
                    ExactSum.accumulate(p.baseAddress!, chunks: 4, count: count, exponent: exponent, into: f.baseAddress!)
                }
            }
        }
        var split = [Float](repeating: 0, count: count)
        fixed.withUnsafeBufferPointer { f in
            split.withUnsafeMutableBufferPointer { ExactSum.finish(f.baseAddress!, count: count, exponent: exponent, into: $0.baseAddress!) }
        }
        XCTAssertEqual(split, whole)
    }

    func testAccuracyAgainstDoubleSum() {
        var stream = RandomStream(seed: 3)
        let chunks = 7, count = 9
        let partials = (0..<(chunks * count)).map { _ in stream.normal() }
        let sum = LocalReducer().sum(partials, chunks: chunks, count: count)
        for i in 0..<count {
            let exact = (0..<chunks).reduce(0.0) { $0 + Double(partials[$1 * count + i]) }
            XCTAssertEqual(Double(sum[i]), exact, accuracy: abs(exact) * 1e-7 + 1e-12)
        }
    }

    func testZerosAndNonFinite() {
        XCTAssertEqual(LocalReducer().sum([0, 0, 0, 0], chunks: 2, count: 2), [0, 0])
        let withNaN = LocalReducer().sum([1, .nan, 2, 3], chunks: 2, count: 2)
        XCTAssertTrue(withNaN.allSatisfy(\.isNaN))
        let tiny = LocalReducer().sum([1e-30, 2e-30], chunks: 2, count: 1)
        XCTAssertEqual(tiny[0], 3e-30, accuracy: 1e-36)
    }

    /// The four- and eight-lane loops give what the scalar rules give: the
    /// largest magnitude (and any infinity or NaN) wherever it sits, and
    /// round-to-nearest-even fixed point, ties of both signs included.
    func testVectorLoopsMatchTheScalarRules() {
        var stream = RandomStream(seed: 9)
        for count in [1, 3, 4, 5, 8, 9, 17, 33] {
            // 1.0 sets the exponent to 1 (scale 2^41): ±(2n + 1)·2^-42 land exactly halfway.
            var values = (0..<count).map { i -> Float in
                i % 3 == 0 ? Float(2 * stream.integer(below: 1000) + 1) * 0x1p-42 * (i % 2 == 0 ? 1 : -1) : stream.normal() * 0.25
            }
            values[count / 2] = count % 2 == 0 ? 1 : -1
            let exponent = values.withUnsafeBufferPointer { ExactSum.exponent(of: $0.baseAddress!, count: count) }
            XCTAssertEqual(exponent, 1, "count \(count)")
            var fixed = [Int64](repeating: 7, count: count)
            values.withUnsafeBufferPointer { v in
                fixed.withUnsafeMutableBufferPointer { ExactSum.accumulate(v.baseAddress!, chunks: 1, count: count, exponent: exponent, into: $0.baseAddress!) }
            }
            let scale = ExactSum.scale(forExponent: exponent)
            XCTAssertEqual(fixed, values.map { 7 + Int64((Double($0) * scale).rounded(.toNearestOrEven)) }, "count \(count)")
            for position in [0, count - 1, count / 2] {
                for bad: Float in [.infinity, -.infinity, .nan] {
                    var withBad = values
                    withBad[position] = bad
                    XCTAssertEqual(withBad.withUnsafeBufferPointer { ExactSum.exponent(of: $0.baseAddress!, count: count) },
                                   ExactSum.nonFiniteExponent, "count \(count), \(bad) at \(position)")
                }
            }
        }
    }
}
