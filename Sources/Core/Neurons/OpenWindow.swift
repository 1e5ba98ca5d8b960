// Legend: T time steps, N samples, C channels, H×W spatial (P = H·W pixels);
// an image is one (t, sample) of a [T, N, C, H, W] tensor.

/// Where a neuron layer's surrogate window was open in its last training
/// forward: one byte per element of its spikes, 1 where
/// `|h − θ| <= surrogate.supportHalfWidth`. dL/ds reaches anything upstream
/// only through surrogate'(h − θ), which is zero elsewhere, so a layer fed
/// by these spikes needs its input gradient only where the window is open.
public struct OpenWindow: Sendable {
    /// 0 or 1 per element, in the layout of the spikes.
    public let flags: [UInt8]
    /// The shape of the spikes.
    public let shape: [Int]

    public init(flags: [UInt8], shape: [Int]) {
        precondition(shape.reduce(1, *) == flags.count, "OpenWindow: shape \(shape) for \(flags.count) flags")
        self.flags = flags
        self.shape = shape
    }

    /// The number of ones among `count` flags (each 0 or 1), eight at a
    /// time: the bytes of a word summed by one multiplication (at most 8,
    /// so no byte carries into the next).
    public static func openCount(_ flags: UnsafePointer<UInt8>, count: Int) -> Int {
        let bytes = UnsafeRawPointer(flags)
        var total = 0, i = 0
        while i + 8 <= count {
            total += Int((bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) &* 0x0101_0101_0101_0101) >> 56)
            i += 8
        }
        while i < count { total += Int(flags[i]); i += 1 }
        return total
    }

    /// The fraction of elements whose window is open.
    public var elementFraction: Double {
        guard !flags.isEmpty else { return 0 }
        return Double(flags.withUnsafeBufferPointer { Self.openCount($0.baseAddress!, count: $0.count) }) / Double(flags.count)
    }

    /// The fraction of pixels (image, y, x) of a `[T, N, C, H, W]` shape with
    /// at least one open channel (the columns a gated input gradient
    /// computes); nil for other shapes.
    public var pixelFraction: Double? {
        guard shape.count == 5 else { return nil }
        let channels = shape[2], pixels = shape[3] * shape[4], inImage = channels * pixels
        guard inImage > 0, !flags.isEmpty else { return 0 }
        var open = 0, scratch = [UInt8](repeating: 0, count: pixels)
        flags.withUnsafeBufferPointer { f in
            for image in 0..<(flags.count / inImage) {
                open += Self.openPixels(&scratch, f.baseAddress! + image * inImage, channels: channels, pixels: pixels)
            }
        }
        return Double(open) / Double(flags.count / channels)
    }

    /// `anyOpen[p]` = 1 when some channel of the image `flags` [C, P] is open at pixel p, else 0.
    /// Returns the number of such pixels.
    @discardableResult
    public static func openPixels(_ anyOpen: UnsafeMutablePointer<UInt8>, _ flags: UnsafePointer<UInt8>,
                                  channels: Int, pixels: Int) -> Int {
        anyOpen.update(repeating: 0, count: pixels)
        for c in 0..<channels {
            let plane = flags + c * pixels
            for p in 0..<pixels { anyOpen[p] |= plane[p] }
        }
        var count = 0
        for p in 0..<pixels { count += Int(anyOpen[p]) }
        return count
    }
}
