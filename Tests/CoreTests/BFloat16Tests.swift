import XCTest
@testable import Core

/// The fp32 → bf16 rounding kernel of `-amp`: against PyTorch's conversion
/// (amp/bf16_rounding: 33 special patterns — zeros, subnormals, ties, the
/// largest finite values, infinities, NaNs — and 990 random bit patterns), and
/// the SIMD loop against the scalar rounding on awkward sizes.
final class BFloat16Tests: XCTestCase {
    func testMatchesPyTorchConversion() throws {
        let f = try Fixture.load("amp/bf16_rounding")
        let high = try f.required("input_high").data, low = try f.required("input_low").data
        let expected = try f.required("bf16").data.map { UInt32($0) << 16 }
        let bits = zip(high, low).map { UInt32($0) << 16 | UInt32($1) }
        XCTAssertEqual(bits.count, 1023)
        let input = bits.map { Float(bitPattern: $0) }
        var output = [Float](repeating: 0, count: input.count)
        BFloat16.round(&output, input, count: input.count)
        var mismatches = 0
        for i in bits.indices {
            let scalar = BFloat16.roundedBits(bits[i]), vector = output[i].bitPattern
            if scalar != expected[i] || vector != expected[i] {
                mismatches += 1
                XCTFail(String(format: "bf16 of 0x%08X: scalar 0x%08X, SIMD 0x%08X, torch 0x%08X", bits[i], scalar, vector, expected[i]))
            }
        }
        XCTAssertEqual(mismatches, 0)
        print("max-diff bf16 rounding: \(mismatches) of \(bits.count) patterns differ from torch")
    }

    func testRoundingProperties() {
        XCTAssertEqual(BFloat16.round(1 + 1 / 256), 1, "tie rounds to even (down)")
        XCTAssertEqual(BFloat16.round(1 + 3 / 256), 1 + 4 / 256, "tie rounds to even (up)")
        XCTAssertEqual(BFloat16.round(-(1 + 3 / 256)), -(1 + 4 / 256))
        XCTAssertEqual(BFloat16.round(.greatestFiniteMagnitude), .infinity, "beyond the largest bf16")
        XCTAssertEqual(BFloat16.round(-.infinity), -.infinity)
        XCTAssertTrue(BFloat16.round(.nan).isNaN)
        XCTAssertEqual(BFloat16.round(Float(bitPattern: 0x0000_8000)), 0, "smallest-subnormal tie rounds to even zero")
        XCTAssertEqual(BFloat16.round(Float(bitPattern: 0x0001_8000)).bitPattern, 0x0002_0000, "subnormal tie to even")
        XCTAssertEqual(BFloat16.round(1 / 0.7), 1.4296875, "a dropout scale 1/(1 − 0.3) is not exact in bf16")
        XCTAssertEqual(BFloat16.round(1 / 0.8), 1.25, "1/(1 − 0.2) and spikes are")
        // A product of two bf16 values is exact in fp32.
        let a = BFloat16.round(1.2345678), b = BFloat16.round(-7.654321)
        XCTAssertEqual(Double(a * b), Double(a) * Double(b))
    }

    func testSIMDMatchesScalarOnAwkwardSizes() {
        var stream = RandomStream(seed: 7)
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                 1 + 1 / 256, 1 + 3 / 256, Float(bitPattern: 0x0000_8000), -.leastNormalMagnitude]
        for size in [1, 7, 8, 9, 1023] {
            let x = (0..<size).map { i -> Float in
                i % 5 == 0 ? specials[(i / 5) % specials.count] : Float(bitPattern: UInt32(truncatingIfNeeded: stream.next()))
            }
            var out = [Float](repeating: 0, count: size)
            BFloat16.round(&out, x, count: size)
            for i in 0..<size {
                XCTAssertEqual(out[i].bitPattern, BFloat16.roundedBits(x[i].bitPattern), "size \(size), element \(i)")
            }
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { BFloat16.round($0.baseAddress!, count: size) }
            XCTAssertEqual(inPlace.map(\.bitPattern), out.map(\.bitPattern), "in place, size \(size)")
        }
    }
}
