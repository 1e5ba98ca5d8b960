// Legend: N events, M = T frames, H×W sensor, p polarity (0 or 1).

/// Address events of one recording or one sample, in file order: event `i`
/// fired at time `t[i]` (µs) at pixel (`x[i]`, `y[i]`) with polarity `p[i]`.
public struct EventStream: Sendable, Equatable {
    public var t: [Int64]
    public var x: [Int32]
    public var y: [Int32]
    public var p: [UInt8]

    public init(t: [Int64] = [], x: [Int32] = [], y: [Int32] = [], p: [UInt8] = []) {
        precondition(t.count == x.count && x.count == y.count && y.count == p.count,
                     "EventStream: \(t.count) times, \(x.count) x, \(y.count) y, \(p.count) polarities")
        self.t = t; self.x = x; self.y = y; self.p = p
    }

    public var count: Int { t.count }

    mutating func reserveCapacity(_ n: Int) {
        t.reserveCapacity(n); x.reserveCapacity(n); y.reserveCapacity(n); p.reserveCapacity(n)
    }

    mutating func append(t time: Int64, x column: Int32, y row: Int32, p polarity: UInt8) {
        t.append(time); x.append(column); y.append(row); p.append(polarity)
    }

    /// The events with `start <= t < end`, in file order (spikingjelly's
    /// per-gesture mask: events need not be sorted by time).
    public func events(from start: Int64, to end: Int64) -> EventStream {
        var out = EventStream()
        for i in 0..<count where t[i] >= start && t[i] < end {
            out.append(t: t[i], x: x[i], y: y[i], p: p[i])
        }
        return out
    }
}
