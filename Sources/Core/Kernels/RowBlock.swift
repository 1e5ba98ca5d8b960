/// A run of `width` consecutive floats of a row, held in registers.
protocol RowBlock {
    static var width: Int { get }
    init(_ source: UnsafePointer<Float>)
    func store(_ target: UnsafeMutablePointer<Float>)
    static var zero: Self { get }
    /// self + v · other, one rounding per lane (a fused multiply-add).
    func adding(_ other: Self, times v: Float) -> Self
    func plus(_ other: Self) -> Self
    func scaled(by v: Float) -> Self
}

struct RowBlock8: RowBlock {
    var a: SIMD8<Float>
    static var width: Int { 8 }
    @inline(__always) init(_ source: UnsafePointer<Float>) {
        a = UnsafeRawPointer(source).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) init(a: SIMD8<Float>) { self.a = a }
    @inline(__always) func store(_ target: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(target).storeBytes(of: a, as: SIMD8<Float>.self)
    }
    static var zero: RowBlock8 { RowBlock8(a: .zero) }
    @inline(__always) func adding(_ other: RowBlock8, times v: Float) -> RowBlock8 {
        RowBlock8(a: a.addingProduct(other.a, SIMD8(repeating: v)))
    }
    @inline(__always) func plus(_ other: RowBlock8) -> RowBlock8 { RowBlock8(a: a + other.a) }
    @inline(__always) func scaled(by v: Float) -> RowBlock8 { RowBlock8(a: a * v) }
}

struct RowBlock32: RowBlock {
    var a: RowBlock8, b: RowBlock8, c: RowBlock8, d: RowBlock8
    static var width: Int { 32 }
    @inline(__always) init(_ source: UnsafePointer<Float>) {
        a = RowBlock8(source); b = RowBlock8(source + 8); c = RowBlock8(source + 16); d = RowBlock8(source + 24)
    }
    @inline(__always) init(a: RowBlock8, b: RowBlock8, c: RowBlock8, d: RowBlock8) {
        self.a = a; self.b = b; self.c = c; self.d = d
    }
    @inline(__always) func store(_ target: UnsafeMutablePointer<Float>) {
        a.store(target); b.store(target + 8); c.store(target + 16); d.store(target + 24)
    }
    static var zero: RowBlock32 { RowBlock32(a: .zero, b: .zero, c: .zero, d: .zero) }
    @inline(__always) func adding(_ other: RowBlock32, times v: Float) -> RowBlock32 {
        RowBlock32(a: a.adding(other.a, times: v), b: b.adding(other.b, times: v),
                   c: c.adding(other.c, times: v), d: d.adding(other.d, times: v))
    }
    @inline(__always) func plus(_ other: RowBlock32) -> RowBlock32 {
        RowBlock32(a: a.plus(other.a), b: b.plus(other.b), c: c.plus(other.c), d: d.plus(other.d))
    }
    @inline(__always) func scaled(by v: Float) -> RowBlock32 {
        RowBlock32(a: a.scaled(by: v), b: b.scaled(by: v), c: c.scaled(by: v), d: d.scaled(by: v))
    }
}

struct RowBlock64: RowBlock {
    var low: RowBlock32, high: RowBlock32
    static var width: Int { 64 }
    @inline(__always) init(_ source: UnsafePointer<Float>) {
        low = RowBlock32(source); high = RowBlock32(source + 32)
    }
    @inline(__always) init(low: RowBlock32, high: RowBlock32) { self.low = low; self.high = high }
    @inline(__always) func store(_ target: UnsafeMutablePointer<Float>) {
        low.store(target); high.store(target + 32)
    }
    static var zero: RowBlock64 { RowBlock64(low: .zero, high: .zero) }
    @inline(__always) func adding(_ other: RowBlock64, times v: Float) -> RowBlock64 {
        RowBlock64(low: low.adding(other.low, times: v), high: high.adding(other.high, times: v))
    }
    @inline(__always) func plus(_ other: RowBlock64) -> RowBlock64 {
        RowBlock64(low: low.plus(other.low), high: high.plus(other.high))
    }
    @inline(__always) func scaled(by v: Float) -> RowBlock64 {
        RowBlock64(low: low.scaled(by: v), high: high.scaled(by: v))
    }
}
