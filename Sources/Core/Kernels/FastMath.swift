// Vectorised exp and sigmoid on SIMD8<Float> (one AVX register with -target-cpu haswell).
//
// Foundation's `exp` is scalar libm: a loop calling it runs one lane at a time and dominates any
// kernel that needs a sigmoid per element. These are branch-free polynomial versions after
// Cephes `expf`: range reduction x = n·ln2 + r with |r| <= ln2/2 (Cody–Waite split of ln2, FMA),
// a degree-5 minimax polynomial for e^r, then scaling by 2^n built from the exponent bits.
//
// Accuracy, measured by FastMathTests against Foundation (Double-rounded reference) on a dense grid:
//   exp      on [-87, 88]:   max relative error 1.19e-7 (~1 ulp); NaN-free for every finite input.
//   sigmoid  on [-100, 100]: max relative error 1.79e-7 (~1.5 ulp).
// Range: exp(x) = +inf for x > ln(Float.greatestFiniteMagnitude) (≈ 88.72), gradual underflow to
// subnormals below ≈ -87.34 and exactly 0 below ≈ -103.97, as IEEE exp does. NaN propagates.

/// Vectorised elementary functions on `SIMD8<Float>` (see the accuracy table at the top of the file).
public enum FastMath {
    @usableFromInline static let log2e: Float = 1.44269504088896341
    // ln 2 = ln2High + ln2Low; ln2High has 9 significant bits so n·ln2High is exact for |n| <= 2^15.
    @usableFromInline static let ln2High: Float = 0.693359375
    @usableFromInline static let ln2Low: Float = -2.12194440e-4
    // 1.5·2^23: adding it rounds a float with |value| < 2^22 to the nearest integer, which then
    // sits in the low mantissa bits.
    @usableFromInline static let roundingMagic: Float = 12582912
    // Clamp bounds: beyond them the result is already +inf (89 > 88.72) or rounds to 0 (< -103.97),
    // and the clamp keeps n inside [-152, 129] so both halves of 2^n below stay normal floats.
    @usableFromInline static let expLowerBound: Float = -105
    @usableFromInline static let expUpperBound: Float = 89

    /// e^x lanewise. Relative error <= 1.2e-7 where the result is a normal float.
    ///
    /// - Parameter x: any values; ±inf give inf / 0, NaN gives NaN.
    @_transparent
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // Clamp with compare+blend (not pointwiseMin) so that NaN passes through untouched.
        var x = x.replacing(with: SIMD8(repeating: expUpperBound), where: x .> expUpperBound)
        x.replace(with: SIMD8(repeating: expLowerBound), where: x .< expLowerBound)

        let magic = SIMD8<Float>(repeating: roundingMagic)
        let t = magic.addingProduct(x, SIMD8(repeating: log2e))   // n + magic
        let n = t - magic                                           // round(x·log2e), exact
        var r = x.addingProduct(n, SIMD8(repeating: -ln2High))    // exact
        r = r.addingProduct(n, SIMD8(repeating: -ln2Low))

        // e^r ≈ 1 + r + r²·P(r), Cephes expf coefficients.
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = SIMD8(repeating: 1.3981999507e-3).addingProduct(p, r)
        p = SIMD8(repeating: 8.3334519073e-3).addingProduct(p, r)
        p = SIMD8(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = SIMD8(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = SIMD8(repeating: 5.0000001201e-1).addingProduct(p, r)
        let y = r.addingProduct(p, r * r) + 1

        // 2^n = 2^n1 · 2^n2 with n1 = n >> 1: both factors are normal for n in [-252, 254], so
        // y·2^n1 is exact and the second multiply rounds once — overflow to inf and gradual
        // underflow come out as IEEE arithmetic makes them.
        let tBits = unsafeBitCast(t, to: SIMD8<Int32>.self)
        let nInt = tBits &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let n1 = nInt &>> 1
        let n2 = nInt &- n1
        let bias = SIMD8<Int32>(repeating: 127)
        let scale1 = unsafeBitCast((n1 &+ bias) &<< 23, to: SIMD8<Float>.self)
        let scale2 = unsafeBitCast((n2 &+ bias) &<< 23, to: SIMD8<Float>.self)
        return y * scale1 * scale2
    }

    /// Logistic sigmoid 1 / (1 + e^-x) lanewise. Relative error <= 1.8e-7 (also for very
    /// negative x, where the result is e^x / (1 + e^x) and may be subnormal); never NaN for
    /// finite x.
    @_transparent
    public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // e = e^-|x| in (0, 1]: no overflow, and the negative branch keeps full relative accuracy.
        let signBit = SIMD8<UInt32>(repeating: 0x8000_0000)
        let negAbs = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) | signBit,
                                   to: SIMD8<Float>.self)
        let e = exp(negAbs)
        let positive = 1 / (1 + e)
        return positive.replacing(with: e * positive, where: x .< 0)
    }
}
