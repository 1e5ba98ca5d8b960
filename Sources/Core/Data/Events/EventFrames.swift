// Legend: N events, M = T frames, H×W sensor, p polarity (0 or 1);
// frames are [M, 2, H, W] event counts.

/// How events are cut into frames (spikingjelly's `split_by`).
public enum FrameSplit: String, Sendable, CaseIterable {
    /// Equal event counts: frame j sums events `[j·⌊N/M⌋, (j+1)·⌊N/M⌋)`, the last one up to N.
    case number
    /// Equal time windows of `⌊(t_last − t_first)/M⌋` µs.
    case time

    /// The cache file's code: 0 number, 1 time.
    var code: Int { self == .number ? 0 : 1 }
}

/// Events → frames, as spikingjelly 0.0.0.0.12's
/// `integrate_events_by_fixed_frames_number`: `F[j, p, y, x]` counts the
/// events of segment j with polarity p at (x, y).
public enum EventFrames {
    /// The event index range of each frame (`cal_fixed_frames_number_segment_index`).
    /// `source` names the file in errors.
    public static func segments(_ t: [Int64], split: FrameSplit, frames m: Int, source: String) throws -> [Range<Int>] {
        precondition(m > 0, "EventFrames: \(m) frames")
        let n = t.count
        switch split {
        case .number:
            let di = n / m
            return (0..<m).map { j in (j * di)..<(j == m - 1 ? n : (j + 1) * di) }
        case .time:
            guard n > 0 else {
                throw DataError("\(source): no events to cut into \(m) frames by time; use split by number")
            }
            // Python's floor division (the difference is negative only for unsorted times).
            let span = t[n - 1] - t[0]
            let dt = span >= 0 ? span / Int64(m) : -((-span + Int64(m) - 1) / Int64(m))
            var ranges: [Range<Int>] = []
            for j in 0..<m {
                let lower = dt * Int64(j) + t[0], upper = dt * Int64(j) + t[0] + dt
                // First and last event inside the window, as spikingjelly's mask does.
                guard let first = t.firstIndex(where: { $0 >= lower && $0 < upper }),
                      let last = t.lastIndex(where: { $0 >= lower && $0 < upper }) else {
                    throw DataError("\(source): frame \(j) of \(m) by time, window [\(lower), \(upper)) µs, holds no events (spikingjelly fails on this sample too); use split by number or fewer frames (-T)")
                }
                ranges.append(first..<(j == m - 1 ? n : last + 1))
            }
            return ranges
        }
    }

    /// `[M, 2, H, W]` counts of `events`; an event outside the H×W sensor is
    /// an error naming `source`.
    public static func integrate(_ events: EventStream, split: FrameSplit, frames m: Int, height h: Int, width w: Int,
                                 source: String) throws -> [Float] {
        let ranges = try segments(events.t, split: split, frames: m, source: source)
        var out = [Float](repeating: 0, count: m * 2 * h * w)
        for (j, range) in ranges.enumerated() {
            for i in range {
                let x = Int(events.x[i]), y = Int(events.y[i]), p = Int(events.p[i])
                guard x >= 0 && x < w && y >= 0 && y < h && p <= 1 else {
                    throw DataError("\(source): event \(i) at x \(x), y \(y), polarity \(p) lies outside the \(w)×\(h) sensor (expected x < \(w), y < \(h), polarity 0 or 1)")
                }
                out[((j * 2 + p) * h + y) * w + x] += 1
            }
        }
        return out
    }
}
