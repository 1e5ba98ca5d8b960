// Legend: C channels, H×W image; an event is a nonzero value at (c, iy, ix).

/// The nonzero values of a run of images `[C, H, W]`, grouped by image and
/// channel in scan order, and — when they all share one value, as spikes
/// do — also as one bit per input value in pixel-major order: what a
/// convolution fed by spikes needs of its input, forward and for its weight
/// gradient. With a firing rate of 15 % this is 0.7 bytes per input value
/// instead of 4.
public struct InputEvents {
    /// Start of (image i, channel c) in `coordinates` at `i·C + c`; one more entry ends the last.
    public private(set) var segmentStart: [Int32]
    /// `iy << 16 | ix` of every event, in scan order within a segment.
    public private(set) var coordinates: [UInt32]
    /// Every event's value, or empty when all of them equal `uniformValue`.
    public private(set) var values: [Float]
    public private(set) var uniformValue: Float = 0
    /// With a uniform value: bit c of word `((i·H + iy)·W + ix)·words + c / 64`
    /// is set when channel c of image i is nonzero at (iy, ix); else empty.
    public private(set) var pixelBits: [UInt64] = []
    public let channels: Int, height: Int, width: Int
    /// 64-bit words per pixel in `pixelBits`.
    public var words: Int { (channels + 63) / 64 }

    /// Collects the nonzero values of the images `[C, H, W]` at `images`, in order.
    public init(images: [UnsafePointer<Float>], channels: Int, height: Int, width: Int) {
        precondition(height < 1 << 16 && width < 1 << 16, "InputEvents: \(height)×\(width) image is too large")
        self.channels = channels; self.height = height; self.width = width
        let pixels = height * width, segments = images.count * channels
        // One pass, eight values at a time: a lane mask picks out the nonzero ones.
        let capacity = segments * pixels
        let found = UnsafeMutablePointer<UInt32>.allocate(capacity: max(1, capacity))
        let foundValues = UnsafeMutablePointer<Float>.allocate(capacity: max(1, capacity))
        defer { found.deallocate(); foundValues.deallocate() }
        var starts = [Int32](repeating: 0, count: segments + 1)
        var n = 0
        let laneBits = SIMD8<Int32>(1, 2, 4, 8, 16, 32, 64, 128)
        for segment in 0..<segments {
            let plane = images[segment / channels] + (segment % channels) * pixels
            for iy in 0..<height {
                let row = plane + iy * width
                var ix = 0
                while ix < width {
                    var mask: Int32 = 0
                    if ix + 8 <= width {
                        let v = UnsafeRawPointer(row + ix).loadUnaligned(as: SIMD8<Float>.self)
                        mask = SIMD8<Int32>(repeating: 0).replacing(with: laneBits, where: v .!= SIMD8<Float>.zero).wrappedSum()
                    } else {
                        for lane in 0..<(width - ix) where row[ix + lane] != 0 { mask |= 1 << Int32(lane) }
                    }
                    while mask != 0 {
                        let x = ix + mask.trailingZeroBitCount
                        found[n] = UInt32(iy << 16 | x)
                        foundValues[n] = row[x]
                        n += 1
                        mask &= mask - 1
                    }
                    ix += 8
                }
            }
            starts[segment + 1] = Int32(n)
        }
        coordinates = Array(UnsafeBufferPointer(start: found, count: n))
        segmentStart = starts
        let collected = UnsafeBufferPointer(start: foundValues, count: n)
        let uniform = n > 0 && collected.allSatisfy { $0 == collected[0] }
        if uniform {
            uniformValue = collected[0]
            values = []
            pixelBits = Self.bits(segmentStart, coordinates, images: images.count, channels: channels, height: height, width: width)
        } else {
            values = Array(collected)
        }
    }

    private static func bits(_ starts: [Int32], _ coordinates: [UInt32], images: Int, channels: Int, height: Int, width: Int) -> [UInt64] {
        let words = (channels + 63) / 64
        var bits = [UInt64](repeating: 0, count: images * height * width * words)
        bits.withUnsafeMutableBufferPointer { bits in
            for segment in 0..<(images * channels) {
                let i = segment / channels, c = segment % channels
                for e in Int(starts[segment])..<Int(starts[segment + 1]) {
                    let pixel = (i * height + Int(coordinates[e] >> 16)) * width + Int(coordinates[e] & 0xFFFF)
                    bits[pixel * words + c / 64] |= 1 << UInt64(c % 64)
                }
            }
        }
        return bits
    }

    public var count: Int { coordinates.count }

    /// The number of images collected.
    public var imageCount: Int { (segmentStart.count - 1) / channels }

    /// The number of nonzero values in `x[0..<count]`.
    public static func nonzeroCount(_ x: UnsafePointer<Float>, count: Int) -> Int {
        var lanes = SIMD8<Int32>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes &+= SIMD8<Int32>(repeating: 0).replacing(with: 1, where: v .!= SIMD8<Float>.zero)
            i += 8
        }
        var total = Int(lanes.wrappedSum())
        while i < count {
            if x[i] != 0 { total += 1 }
            i += 1
        }
        return total
    }

    /// The events of channel `c` of image `i`.
    @inline(__always)
    func segment(image i: Int, channel c: Int) -> Range<Int> {
        Int(segmentStart[i * channels + c])..<Int(segmentStart[i * channels + c + 1])
    }
}
