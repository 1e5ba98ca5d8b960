/// Labelled images held in memory as bytes, `[N, C, H, W]`, as the files
/// store them; transforms turn them into normalised fp32 batches.
public struct ImageSet: Sendable, Equatable {
    public let channels: Int, height: Int, width: Int
    /// `[N, C, H, W]` pixel values in `0 … maxValue`.
    public var pixels: [UInt8]
    public var labels: [Int]
    public let classes: Int
    /// The largest pixel value of the format (255 for images, 16 for digits).
    public let maxValue: Float

    public init(channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int], classes: Int,
                maxValue: Float = 255) {
        precondition(pixels.count == labels.count * channels * height * width,
                     "ImageSet: \(pixels.count) pixels for \(labels.count) images of \(channels)×\(height)×\(width)")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "ImageSet: a label is outside 0..<\(classes)")
        self.channels = channels; self.height = height; self.width = width
        self.pixels = pixels; self.labels = labels; self.classes = classes; self.maxValue = maxValue
    }

    public var count: Int { labels.count }
    public var imageSize: Int { channels * height * width }

    /// The pixels of image `index`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        pixels[(index * imageSize)..<((index + 1) * imageSize)]
    }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageSet {
        var p: [UInt8] = []
        p.reserveCapacity(indices.count * imageSize)
        for i in indices { p.append(contentsOf: image(i)) }
        return ImageSet(channels: channels, height: height, width: width, pixels: p,
                        labels: indices.map { labels[$0] }, classes: classes, maxValue: maxValue)
    }
}
