/// A histogram of membrane potentials relative to the threshold, `h − v_th`
/// (h after charging, before firing and reset), in the terms of
/// TensorBoard's `HistogramProto`: fixed bucket edges, count, sum, sum of
/// squares, minimum and maximum.
///
/// Everything adds up order-independently — counts and fixed-point sums as
/// integers, extremes as maxima — so histograms filled on several processes
/// and merged with `flatSums` / `flatMaxima` are the same for any split.
public struct MembraneHistogram: Equatable, Sendable {
    /// Upper bucket edges: −8, −7.8, …, 8, then the largest Double (values
    /// above 8). A bucket holds the values in (previous edge, its edge]; the
    /// first one everything up to −8. (A CLIF model trained on the digits
    /// spans about −8…5.)
    public static let limits: [Double] = (0...80).map { Double($0 - 40) / 5 } + [Double.greatestFiniteMagnitude]

    /// Fixed-point units per 1.0 of `fixedSum` and `fixedSumOfSquares`.
    public static let scale = Double(1 << 16)

    public private(set) var buckets = [Int64](repeating: 0, count: limits.count)
    /// Finite values added (non-finite ones are left out).
    public private(set) var count: Int64 = 0
    public private(set) var fixedSum: Int64 = 0
    public private(set) var fixedSumOfSquares: Int64 = 0
    public private(set) var minimum = Float.infinity
    public private(set) var maximum = -Float.infinity

    public init() {}

    public var sum: Double { Double(fixedSum) / Self.scale }
    public var sumOfSquares: Double { Double(fixedSumOfSquares) / Self.scale }

    /// Adds `value − offset` for every value (one sample's membrane; its sums
    /// are taken in Double, then rounded once to fixed point).
    public mutating func add(_ values: [Float], minus offset: Float) {
        var sum = 0.0, squares = 0.0
        for value in values {
            let x = value - offset
            guard x.isFinite else { continue }
            buckets[Self.bucket(of: Double(x))] += 1
            count += 1
            sum += Double(x)
            squares += Double(x) * Double(x)
            minimum = min(minimum, x)
            maximum = max(maximum, x)
        }
        fixedSum += Self.fixed(sum)
        fixedSumOfSquares += Self.fixed(squares)
    }

    /// The index of the bucket that holds `x`.
    static func bucket(of x: Double) -> Int {
        let last = limits.count - 1
        // Clamped in Double first: a diverging run's 1e30 fits no Int.
        let estimate = ((x + 8) * 5).rounded(.up)
        var i = estimate <= 0 ? 0 : estimate >= Double(last) ? last : Int(estimate)
        while i > 0 && x <= limits[i - 1] { i -= 1 }
        while i < last && x > limits[i] { i += 1 }
        return i
    }

    /// round(x · scale), held to ±2^52 so that adding 2^10 of them cannot overflow.
    static func fixed(_ x: Double) -> Int64 {
        let scaled = (x * scale).rounded(), limit = Double(1 << 52)
        return scaled.isNaN ? 0 : Int64(Swift.max(-limit, Swift.min(limit, scaled)))
    }

    // MARK: Merging across processes

    /// Count, sums and buckets, to be summed elementwise.
    public var flatSums: [Int64] { [count, fixedSum, fixedSumOfSquares] + buckets }

    /// Maximum and negated minimum as order-preserving integers, to be maximised elementwise.
    public var flatMaxima: [Int32] { [Self.orderedKey(maximum), Self.orderedKey(-minimum)] }

    /// The histogram whose `flatSums` and `flatMaxima` are `sums` and `maxima`.
    public init(sums: ArraySlice<Int64>, maxima: ArraySlice<Int32>) {
        let s = Array(sums), m = Array(maxima)
        precondition(s.count == 3 + Self.limits.count && m.count == 2,
                     "MembraneHistogram: \(s.count) sums and \(m.count) maxima")
        count = s[0]; fixedSum = s[1]; fixedSumOfSquares = s[2]
        buckets = Array(s[3...])
        maximum = Self.float(orderedKey: m[0])
        minimum = -Self.float(orderedKey: m[1])
    }

    /// An Int32 that orders as the Float does (−0 and +0 alike).
    static func orderedKey(_ x: Float) -> Int32 {
        let bits = Int32(bitPattern: x.bitPattern)
        return bits >= 0 ? bits : Int32.min - bits
    }

    static func float(orderedKey key: Int32) -> Float {
        key >= 0 ? Float(bitPattern: UInt32(key)) : Float(bitPattern: 0x8000_0000 | UInt32(-Int64(key)))
    }
}
