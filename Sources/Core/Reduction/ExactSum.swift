import Foundation

/// Order-independent summation of fp32 partial sums in 64-bit fixed point.
///
/// Every reduction over the batch dimension (weight and bias gradients,
/// BatchNorm statistics and their backward sums, the loss) is computed as
/// fp32 partial sums per *reduction chunk* — a fixed group of samples whose
/// composition does not depend on how the batch is spread over processes —
/// and the partials are then added here. The chunk partials of one tensor are
/// scaled by a common power of two chosen from their largest magnitude,
/// rounded to `Int64` and added as integers. Integer addition is exact and
/// associative, so the total — and its single rounding back to fp32 — is the
/// same whatever the order of the additions, on one process or split over any
/// number of MPI ranks (which only need to agree on the exponent with an
/// allreduce-max and add the integers with an allreduce-sum).
///
/// Precision: each partial is rounded to an absolute step of
/// `2^(exponent − 62 + headroomBits)`, i.e. about 2e-13 of the largest partial,
/// far below fp32's own 6e-8 relative rounding.
public enum ExactSum {
    /// Bits kept free above the largest partial so that up to `2^headroomBits`
    /// partials add up without overflowing `Int64`.
    public static let headroomBits: Int32 = 20

    /// Marks partials that hold a NaN or an infinity: the total becomes NaN.
    public static let nonFiniteExponent: Int32 = .max

    /// Marks partials that are all zero.
    public static let zeroExponent: Int32 = .min

    /// The binary exponent `e` with `max |x| < 2^e` over `values`, or
    /// `zeroExponent` when all are zero, or `nonFiniteExponent` when any is
    /// not finite.
    public static func exponent(of values: UnsafePointer<Float>, count: Int) -> Int32 {
        var largest: Float = 0
        var finite = true
        for i in 0..<count {
            let magnitude = abs(values[i])
            // NaN compares false, so test finiteness explicitly.
            if !magnitude.isFinite { finite = false }
            largest = max(largest, magnitude)
        }
        if !finite { return nonFiniteExponent }
        if largest == 0 { return zeroExponent }
        // frexp: largest = f * 2^e with f in [0.5, 1), so largest < 2^e.
        return Int32(largest.exponent) + 1
    }

    /// The power of two that maps partials below `2^exponent` to integers
    /// with `headroomBits` to spare.
    @inlinable
    public static func scale(forExponent exponent: Int32) -> Double {
        Double(sign: .plus, exponent: Int(62 - headroomBits - exponent), significand: 1)
    }

    /// Adds `chunks` rows of `count` partials (`[chunks, count]`) into the
    /// fixed-point accumulator `fixed` (`[count]`), at `exponent`.
    public static func accumulate(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
                                  exponent: Int32, into fixed: UnsafeMutablePointer<Int64>) {
        precondition(exponent != nonFiniteExponent && exponent != zeroExponent,
                     "ExactSum.accumulate: no finite non-zero exponent (\(exponent))")
        let s = scale(forExponent: exponent)
        for c in 0..<chunks {
            let row = partials + c * count
            for i in 0..<count {
                fixed[i] &+= Int64((Double(row[i]) * s).rounded(.toNearestOrEven))
            }
        }
    }

    /// Converts the fixed-point totals back to fp32.
    /// `fixed` is only read for a finite, non-zero exponent.
    public static func finish(_ fixed: UnsafePointer<Int64>?, count: Int, exponent: Int32,
                              into result: UnsafeMutablePointer<Float>) {
        switch exponent {
        case nonFiniteExponent:
            result.update(repeating: .nan, count: count)
        case zeroExponent:
            result.update(repeating: 0, count: count)
        default:
            let inverse = 1 / scale(forExponent: exponent)
            let fixed = fixed!
            for i in 0..<count { result[i] = Float(Double(fixed[i]) * inverse) }
        }
    }

    /// The whole reduction on one process: `result[i] = Σ_c partials[c, i]`.
    public static func sum(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
                           into result: UnsafeMutablePointer<Float>) {
        let exponent = self.exponent(of: partials, count: chunks * count)
        guard exponent != nonFiniteExponent, exponent != zeroExponent else {
            finish(nil, count: count, exponent: exponent, into: result)
            return
        }
        var fixed = [Int64](repeating: 0, count: count)
        fixed.withUnsafeMutableBufferPointer { acc in
            accumulate(partials, chunks: chunks, count: count, exponent: exponent, into: acc.baseAddress!)
            finish(acc.baseAddress!, count: count, exponent: exponent, into: result)
        }
    }
}
