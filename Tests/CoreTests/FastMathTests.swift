import Core
import Foundation
import XCTest

/// FastMath against Foundation's libm in Double precision (the exact result rounded once).
final class FastMathTests: XCTestCase {
    private typealias BufferFunction = (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void
    private let exp: BufferFunction = { FastMath.exp($0, $1, count: $2) }
    private let sigmoid: BufferFunction = { FastMath.sigmoid($0, $1, count: $2) }

    private func apply(_ f: BufferFunction, _ xs: [Float]) -> [Float] {
        var out = [Float](repeating: .nan, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in f(y.baseAddress!, x.baseAddress!, xs.count) }
        }
        return out
    }

    /// Max relative error over results that are normal floats; results below the normal range
    /// must be within `Float.leastNormalMagnitude` absolutely (subnormals carry few bits).
    private func maxRelativeError(_ f: BufferFunction, _ reference: (Double) -> Double,
                                  _ xs: [Float], file: StaticString = #filePath, line: UInt = #line)
        -> (error: Double, at: Float) {
        let ys = apply(f, xs)
        var worst = (error: 0.0, at: Float.nan)
        for (x, y) in zip(xs, ys) {
            let exact = reference(Double(x))
            XCTAssertFalse(y.isNaN, "NaN at x = \(x)", file: file, line: line)
            if abs(exact) >= Double(Float.leastNormalMagnitude) {
                let error = abs(Double(y) - exact) / abs(exact)
                if error > worst.error { worst = (error, x) }
            } else {
                XCTAssertLessThanOrEqual(abs(Double(y) - exact), Double(Float.leastNormalMagnitude),
                                         "subnormal result at x = \(x): \(y) vs \(exact)", file: file, line: line)
            }
        }
        return worst
    }

    private func grid(from lower: Float, to upper: Float, count: Int) -> [Float] {
        (0...count).map { lower + (upper - lower) * Float($0) / Float(count) }
    }

    func testExpRelativeErrorOnDenseGrid() {
        var xs = grid(from: -87, to: 88, count: 1 << 20)
        xs += [0, -0.0, 1e-30, -1e-30, Float.leastNonzeroMagnitude, 1, -1, 0.5 * Float(M_LN2),
               -0.5 * Float(M_LN2), 88.5, 88.72, -87.3]
        let (error, at) = maxRelativeError(exp, Foundation.exp, xs)
        // Measured 8.1e-8 (under one ulp). 2.4e-7 is two ulps at the bottom of a binade.
        XCTAssertLessThanOrEqual(error, 2.4e-7, "exp max relative error \(error) at x = \(at)")
        print("FastMath.exp max relative error on [-87, 88]: \(error) at x = \(at)")
    }

    func testExpSpecialValues() {
        let xs: [Float] = [0, -0.0, 89, 100, 1000, .greatestFiniteMagnitude, .infinity,
                           -100, -103, -104, -110, -1000, -.greatestFiniteMagnitude, -.infinity]
        let ys = apply(exp, xs)
        XCTAssertEqual(ys[0], 1)
        XCTAssertEqual(ys[1], 1)
        for i in 2...6 { XCTAssertEqual(ys[i], .infinity, "exp(\(xs[i])) = \(ys[i])") }
        // Gradual underflow: exp(-100) = 3.72e-44, subnormal.
        XCTAssertEqual(Double(ys[7]), Foundation.exp(-100.0), accuracy: Double(Float.leastNonzeroMagnitude))
        XCTAssertGreaterThan(ys[7], 0)
        for i in 10...13 { XCTAssertEqual(ys[i], 0, "exp(\(xs[i])) = \(ys[i])") }
        XCTAssertTrue(apply(exp, [.nan])[0].isNaN)
        XCTAssertTrue(apply(sigmoid, [.nan])[0].isNaN)
    }

    func testExpIsFiniteAndMonotoneAcrossAllBinades() {
        // Every 4096th bit pattern: all exponents, both signs.
        var xs: [Float] = []
        for bits in stride(from: UInt32(0), to: UInt32.max, by: 4096) {
            let x = Float(bitPattern: bits)
            if x.isFinite { xs.append(x) }
        }
        let ys = apply(exp, xs)
        for (x, y) in zip(xs, ys) {
            let exact = Foundation.exp(Double(x))
            XCTAssertFalse(y.isNaN, "exp(\(x)) is NaN")
            if exact > Double(Float.greatestFiniteMagnitude) { XCTAssertEqual(y, .infinity, "exp(\(x))") }
            if exact < Double(Float.leastNonzeroMagnitude) / 2 { XCTAssertEqual(y, 0, "exp(\(x))") }
        }
        let sorted = grid(from: -110, to: 90, count: 200_000)
        let ysSorted = apply(exp, sorted)
        for i in 1..<ysSorted.count where ysSorted[i] < ysSorted[i - 1] {
            XCTFail("exp not monotone at \(sorted[i]): \(ysSorted[i - 1]) > \(ysSorted[i])")
            break
        }
    }

    func testSigmoidRelativeErrorOnDenseGrid() {
        var xs = grid(from: -100, to: 100, count: 1 << 20)
        xs += [0, -0.0, 1e-30, -1e-30, 1e-3, -1e-3, 16.6, 17, -87.5, -88, -90]
        let reference = { (x: Double) in 1 / (1 + Foundation.exp(-x)) }
        let (error, at) = maxRelativeError(sigmoid, reference, xs)
        // Measured 1.9e-7 (1.6 ulps, at x ≈ -5.5: e·(1/(1+e)) rounds three times).
        XCTAssertLessThanOrEqual(error, 3e-7, "sigmoid max relative error \(error) at x = \(at)")
        print("FastMath.sigmoid max relative error on [-100, 100]: \(error) at x = \(at)")
    }

    func testSigmoidSpecialValues() {
        let xs: [Float] = [0, -0.0, 200, 1e30, .infinity, -200, -1e30, -.infinity,
                           .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        let ys = apply(sigmoid, xs)
        XCTAssertEqual(ys[0], 0.5)
        XCTAssertEqual(ys[1], 0.5)
        for i in [2, 3, 4, 8] { XCTAssertEqual(ys[i], 1, "sigmoid(\(xs[i])) = \(ys[i])") }
        for i in [5, 6, 7, 9] { XCTAssertEqual(ys[i], 0, "sigmoid(\(xs[i])) = \(ys[i])") }
        // Symmetry sigmoid(-x) = 1 - sigmoid(x) to within rounding.
        let g = grid(from: -20, to: 20, count: 4000)
        let positive = apply(sigmoid, g)
        let negative = apply(sigmoid, g.map { -$0 })
        for i in g.indices {
            XCTAssertEqual(positive[i] + negative[i], 1, accuracy: 2.4e-7, "x = \(g[i])")
        }
    }
}
