import XCTest
@testable import Core

/// The error measures the fixture tests compare with must fail on a NaN or
/// an infinity anywhere, not only at the first element.
final class ComparisonTests: XCTestCase {
    func testRelativeErrorIsInfiniteForANonFiniteValueAnywhere() {
        let expected = Tensor(shape: [2, 5], data: (0..<10).map { Float($0) - 4.5 })
        XCTAssertEqual(expected.relativeError(to: expected), 0)
        var close = expected.data
        close[7] += 0.25
        XCTAssertEqual(Tensor(shape: [2, 5], data: close).relativeError(to: expected), 0.25 / 4.5, accuracy: 1e-7)
        for position in [0, 3, 9] {
            for bad: Float in [.nan, .infinity, -.infinity] {
                var values = expected.data
                values[position] = bad
                let withBad = Tensor(shape: [2, 5], data: values)
                XCTAssertEqual(withBad.relativeError(to: expected), .infinity, "\(bad) at \(position) in the actual tensor")
                XCTAssertEqual(expected.relativeError(to: withBad), .infinity, "\(bad) at \(position) in the expected tensor")
            }
        }
        let allNaN = Tensor(shape: [2, 5], data: [Float](repeating: .nan, count: 10))
        XCTAssertEqual(allNaN.relativeError(to: expected), .infinity)
        XCTAssertFalse(allNaN.relativeError(to: expected) <= 1e-5, "an all-NaN output must not pass a tolerance")
    }

    func testMaxMagnitudeKeepsANaN() {
        XCTAssertEqual(Tensor(shape: [3], data: [1, -4, 2]).maxMagnitude, 4)
        XCTAssertTrue(Tensor(shape: [3], data: [1, .nan, 2]).maxMagnitude.isNaN)
        XCTAssertTrue(Tensor(shape: [3], data: [1, 2, .nan]).maxMagnitude.isNaN)
    }

    func testNeuronKernelErrorIsInfiniteForANaN() {
        let reference: [Float] = [1, 2, 3, 4, 5, 6]
        var values = reference
        XCTAssertEqual(NeuronKernelTests.relativeError(values, reference, T: 2, M: 3, columns: 0..<3), 0)
        values[4] = .nan
        XCTAssertEqual(NeuronKernelTests.relativeError(values, reference, T: 2, M: 3, columns: 0..<3), .infinity)
        XCTAssertEqual(NeuronKernelTests.relativeError(values, reference, T: 2, M: 3, columns: 0..<1), 0,
                       "columns outside the range are not compared")
    }
}
