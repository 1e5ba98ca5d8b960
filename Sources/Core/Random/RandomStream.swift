import Foundation

/// A counter-based pseudo-random stream: every draw is a pure function of a
/// key (seed and the indices that name the draw — epoch, step, layer, global
/// sample index) and a position, so it does not depend on which process or
/// thread makes it or in which order.
///
/// The generator is SplitMix64 (Steele, Lea, Flood 2014) applied to the
/// mixed key plus the position.
public struct RandomStream: Sendable {
    public let key: UInt64
    public private(set) var position: UInt64 = 0

    /// A stream named by a seed and any number of indices.
    public init(seed: UInt64, _ indices: UInt64...) {
        self.init(seed: seed, indices: indices)
    }

    public init(seed: UInt64, indices: [UInt64]) {
        var k = RandomStream.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        for i in indices { k = RandomStream.mix(k ^ RandomStream.mix(i &+ 0xD1B5_4A32_D192_ED03)) }
        key = k
    }

    /// A stream named by a seed and a string (a parameter name, say): FNV-1a
    /// of the UTF-8 bytes, so the same name gives the same stream everywhere.
    public init(seed: UInt64, name: String, _ indices: UInt64...) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        self.init(seed: seed, indices: [h] + indices)
    }

    @inlinable
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The value at `position` without advancing.
    @inlinable
    public func value(at position: UInt64) -> UInt64 {
        RandomStream.mix(key &+ position &* 0x9E37_79B9_7F4A_7C15)
    }

    public mutating func next() -> UInt64 {
        defer { position &+= 1 }
        return value(at: position)
    }

    /// Uniform in [0, 1) with 24 random bits (exact in fp32).
    public mutating func uniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * uniform()
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniformDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Standard normal (Box–Muller on two 53-bit uniforms).
    public mutating func normal() -> Float {
        let u1 = 1 - uniformDouble()          // (0, 1]
        let u2 = uniformDouble()
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// An integer uniform in 0..<bound.
    public mutating func integer(below bound: Int) -> Int {
        precondition(bound > 0, "RandomStream.integer: bound \(bound)")
        return Int(next() % UInt64(bound))
    }
}
