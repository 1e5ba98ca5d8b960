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
        // Eight lanes at a time: |x| is x with the sign bit cleared; a lane
        // that is not below infinity is an infinity or a NaN.
        var largest = SIMD8<Float>(repeating: 0)
        var nonFinite = SIMDMask<SIMD8<Int32>>(repeating: false)
        let infinity = SIMD8<Float>(repeating: .infinity), magnitudeBits = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
        var i = 0
        while i + 8 <= count {
            let bits = UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<UInt32>.self) & magnitudeBits
            let magnitude = unsafeBitCast(bits, to: SIMD8<Float>.self)
            nonFinite .|= .!(magnitude .< infinity)
            largest.replace(with: magnitude, where: magnitude .> largest)
            i += 8
        }
        var finite = !any(nonFinite)
        var top = largest.max()
        while i < count {
            let magnitude = abs(values[i])
            // NaN compares false, so test finiteness explicitly.
            if !magnitude.isFinite { finite = false }
            top = max(top, magnitude)
            i += 1
        }
        if !finite { return nonFiniteExponent }
        if top == 0 { return zeroExponent }
        // frexp: top = f * 2^e with f in [0.5, 1), so top < 2^e.
        return Int32(top.exponent) + 1
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
        accumulate(partials, chunks: chunks, count: count, stride: count, exponent: exponent, into: fixed)
    }

    /// `accumulate` over `count` elements of rows `stride` apart.
    static func accumulate(_ partials: UnsafePointer<Float>, chunks: Int, count: Int, stride: Int,
                           exponent: Int32, into fixed: UnsafeMutablePointer<Int64>) {
        precondition(exponent != nonFiniteExponent && exponent != zeroExponent,
                     "ExactSum.accumulate: no finite non-zero exponent (\(exponent))")
        let s = scale(forExponent: exponent)
        // x·s is exact (a power of two) and below 2^(62 − headroomBits) < 2^51 in
        // magnitude, so adding 1.5·2^52 rounds it to the nearest integer (ties to
        // even) in the low bits of the sum: the integer is the sum's bits minus
        // the constant's — the same value as `.rounded(.toNearestOrEven)`, four
        // lanes at a time (AVX2 has no packed double → Int64 conversion).
        let magic = SIMD4<Double>(repeating: 6_755_399_441_055_744)
        let magicBits = unsafeBitCast(magic, to: SIMD4<Int64>.self), scale4 = SIMD4<Double>(repeating: s)
        for c in 0..<chunks {
            let row = partials + c * stride
            var i = 0
            while i + 4 <= count {
                let x = SIMD4<Double>(UnsafeRawPointer(row + i).loadUnaligned(as: SIMD4<Float>.self))
                let rounded = unsafeBitCast(x * scale4 + magic, to: SIMD4<Int64>.self) &- magicBits
                let target = UnsafeMutableRawPointer(fixed + i)
                target.storeBytes(of: target.loadUnaligned(as: SIMD4<Int64>.self) &+ rounded, as: SIMD4<Int64>.self)
                i += 4
            }
            while i < count {
                fixed[i] &+= Int64((Double(row[i]) * s).rounded(.toNearestOrEven))
                i += 1
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

    /// `exponent(of:count:)` with ranges of the values on the worker threads.
    public static func exponentOnWorkers(of values: UnsafePointer<Float>, count: Int) -> Int32 {
        // The largest of the parts' exponents (the markers are Int32.max and .min, so max works for them too).
        let lock = NSLock()
        var exponent = zeroExponent
        Parallel.forEachRange(count) { range in
            let part = self.exponent(of: values + range.lowerBound, count: range.count)
            lock.lock(); exponent = max(exponent, part); lock.unlock()
        }
        return exponent
    }

    /// `accumulate` with ranges of elements on the worker threads: each
    /// element's integers add up on their own, so the result is the same.
    public static func accumulateOnWorkers(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
                                           exponent: Int32, into fixed: UnsafeMutablePointer<Int64>) {
        Parallel.forEachRange(count) { range in
            accumulate(partials + range.lowerBound, chunks: chunks, count: range.count, stride: count, exponent: exponent,
                       into: fixed + range.lowerBound)
        }
    }

    /// The whole reduction on one process: `result[i] = Σ_c partials[c, i]`.
    public static func sum(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
                           into result: UnsafeMutablePointer<Float>) {
        let exponent = exponentOnWorkers(of: partials, count: chunks * count)
        guard exponent != nonFiniteExponent, exponent != zeroExponent else {
            finish(nil, count: count, exponent: exponent, into: result)
            return
        }
        // Each element's integers add up on their own: ranges of elements go to the workers.
        let fixed = UnsafeMutablePointer<Int64>.allocate(capacity: count)
        defer { fixed.deallocate() }
        Parallel.forEachRange(count) { range in
            (fixed + range.lowerBound).initialize(repeating: 0, count: range.count)
            accumulate(partials + range.lowerBound, chunks: chunks, count: range.count, stride: count, exponent: exponent,
                       into: fixed + range.lowerBound)
            finish(fixed + range.lowerBound, count: range.count, exponent: exponent, into: result + range.lowerBound)
        }
    }
}
