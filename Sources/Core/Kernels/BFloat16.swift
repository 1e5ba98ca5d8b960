// Rounding fp32 values to bfloat16 (1 sign, 8 exponent, 7 fraction bits: the
// upper half of an fp32 word) and back, as fp32. A product of two bf16 values
// has at most 8 + 8 significant bits, so fp32 holds it exactly: rounding both
// operands of a product to bf16 and multiplying in fp32 computes what a bf16
// dot-product unit (AVX512-BF16 `vdpbf16ps`, ARM BF16 `bfdot`) computes,
// with fp32 accumulation — only slower.

/// fp32 → bf16 → fp32 rounding, round to nearest, ties to even, as PyTorch's
/// `tensor.to(torch.bfloat16)`: subnormals round like normal numbers (no flush
/// to zero), values at or beyond the largest bf16 (3.3961e38, the midpoint
/// above 0x7F7F) become ±infinity, infinities stay, and every NaN becomes the
/// NaN 0xFFFF (PyTorch's vectorised conversion writes that pattern; its scalar
/// `c10::BFloat16` writes 0x7FC0 — both are quiet NaNs).
public enum BFloat16 {
    /// The rounded value of one fp32 number (bit pattern `bits`) as an fp32 bit pattern.
    @inlinable
    public static func roundedBits(_ bits: UInt32) -> UInt32 {
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return 0xFFFF_0000 }
        // Adding 0x7FFF plus the lowest kept bit rounds the dropped half to
        // nearest with ties to even; a carry out of the fraction lifts the
        // exponent, which is the correct result (up to infinity).
        return (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
    }

    /// One value, the plain version the SIMD loop is tested against.
    @inlinable
    public static func round(_ x: Float) -> Float {
        Float(bitPattern: roundedBits(x.bitPattern))
    }

    /// `out[i] = round(x[i])` for `i < count`; `out` may equal `x`.
    public static func round(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        let rawIn = UnsafeRawPointer(x), rawOut = UnsafeMutableRawPointer(out)
        let keep = SIMD8<UInt32>(repeating: 0xFFFF_0000), half = SIMD8<UInt32>(repeating: 0x7FFF)
        let one = SIMD8<UInt32>(repeating: 1), magnitude = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
        let infinity = SIMD8<UInt32>(repeating: 0x7F80_0000)
        var i = 0
        while i + 8 <= count {
            let bits = rawIn.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<UInt32>.self)
            let rounded = (bits &+ half &+ ((bits &>> 16) & one)) & keep
            let nan = (bits & magnitude) .> infinity
            rawOut.storeBytes(of: rounded.replacing(with: keep, where: nan), toByteOffset: 4 * i, as: SIMD8<UInt32>.self)
            i += 8
        }
        while i < count { out[i] = round(x[i]); i += 1 }
    }

    /// Rounds `x[i]` in place for `i < count`.
    @inlinable
    public static func round(_ x: UnsafeMutablePointer<Float>, count: Int) {
        round(x, UnsafePointer(x), count: count)
    }

    /// A copy of `tensor` with every value rounded.
    public static func rounded(_ tensor: Tensor) -> Tensor {
        Tensor(shape: tensor.shape) { out in
            tensor.withPointer { x in round(out, x, count: tensor.count) }
        }
    }

    /// A copy of `values` with every value rounded.
    public static func rounded(_ values: UnsafePointer<Float>, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { round(buffer.baseAddress!, values, count: count) }
            initialized = count
        }
    }
}
