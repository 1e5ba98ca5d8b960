// Row reductions in fp32 with eight independent SIMD accumulators. LLVM keeps
// a plain `sum += x[i]` loop scalar (fp addition is not associative), so the
// lanes are explicit here; their order is fixed, so results are deterministic.

public enum RowSums {
    /// Σ x[i].
    @inlinable
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = acc.sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// Σ (x[i] − shift)².
    @inlinable
    public static func squaredDeviations(_ x: UnsafePointer<Float>, count: Int, from shift: Float) -> Float {
        var acc = SIMD8<Float>()
        let s = SIMD8<Float>(repeating: shift)
        var i = 0
        while i + 8 <= count {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - s
            acc += d * d
            i += 8
        }
        var total = acc.sum()
        while i < count { let d = x[i] - shift; total += d * d; i += 1 }
        return total
    }

    /// Σ a[i]·(b[i] − shift).
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, shift: Float) -> Float {
        var acc = SIMD8<Float>()
        let s = SIMD8<Float>(repeating: shift)
        var i = 0
        while i + 8 <= count {
            let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self) - s
            acc += va * vb
            i += 8
        }
        var total = acc.sum()
        while i < count { total += a[i] * (b[i] - shift); i += 1 }
        return total
    }
}
