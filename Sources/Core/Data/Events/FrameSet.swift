import Foundation

// Legend: N samples, T frames per sample, C = 2 polarities, H×W frame;
// frames are stored [N, T, C, H, W] fp32.

/// Read-only fp32 values, either owned or mapped from a cache file (so a
/// dataset of gigabytes costs page cache, not resident memory).
public final class FrameBuffer: @unchecked Sendable {
    public let pointer: UnsafePointer<Float>
    public let count: Int
    private let release: () -> Void

    public init(_ values: [Float]) {
        let owned = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
        owned.initialize(from: values, count: values.count)
        pointer = UnsafePointer(owned); count = values.count
        release = { owned.deallocate() }
    }

    init(mapped base: UnsafeMutableRawPointer, length: Int, offset: Int, count: Int) {
        pointer = UnsafePointer((base + offset).assumingMemoryBound(to: Float.self))
        self.count = count
        release = { munmap(base, length) }
    }

    deinit { release() }
}

/// Labelled event frames: each sample holds its own T frames, which the
/// network sees one per time step (not a static image repeated over time).
public struct FrameSet: Sendable {
    public let frames: Int, channels: Int, height: Int, width: Int
    public let labels: [Int]
    public let classes: Int
    /// `[N, T, C, H, W]` event counts (resized counts for DVS-CIFAR10).
    public let values: FrameBuffer

    public init(frames: Int, channels: Int, height: Int, width: Int, labels: [Int], classes: Int, values: FrameBuffer) {
        precondition(values.count == labels.count * frames * channels * height * width,
                     "FrameSet: \(values.count) values for \(labels.count) samples of \(frames)×\(channels)×\(height)×\(width)")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "FrameSet: a label is outside 0..<\(classes)")
        self.frames = frames; self.channels = channels; self.height = height; self.width = width
        self.labels = labels; self.classes = classes; self.values = values
    }

    public var count: Int { labels.count }
    public var sampleSize: Int { frames * channels * height * width }

    /// The `[T, C, H, W]` frames of sample `index`.
    public func sample(_ index: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: values.pointer + index * sampleSize, count: sampleSize))
    }
}

extension FrameSet: SampleSet {
    public var framesPerSample: Int? { frames }

    /// Writes sample `index` as `[T, C, H, W]`, flipped and rotated when
    /// `augmentation` asks (docs/data.md: DVS-CIFAR10's train transform); event
    /// counts are not normalised, as in the original.
    public func prepare(_ index: Int, augmentation: Augmentation, normalization: Normalization,
                        stream: inout RandomStream, into out: UnsafeMutablePointer<Float>) {
        var planes = sample(index)
        let p = frames * channels
        if augmentation.horizontalFlip && stream.uniform() < 0.5 {
            FrameAugmentation.flipHorizontally(&planes, planes: p, height: height, width: width)
        }
        if augmentation.rotationDegrees > 0 {
            let degrees = stream.integer(below: 2 * augmentation.rotationDegrees) - augmentation.rotationDegrees
            planes = FrameAugmentation.rotate(planes, planes: p, height: height, width: width, degrees: degrees)
        }
        out.update(from: planes, count: planes.count)
    }
}
