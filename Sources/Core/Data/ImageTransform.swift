import Foundation

/// Per-channel normalisation `(x − mean) / std` on pixels scaled to [0, 1].
public struct Normalization: Sendable, Equatable {
    public let mean: [Float], std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && std.allSatisfy { $0 > 0 }, "Normalization: mean \(mean), std \(std)")
        self.mean = mean; self.std = std
    }

    public static let cifar10 = Normalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010])
    public static let cifar100 = Normalization(mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761])
    public static let tinyImageNet = Normalization(mean: [0.4802, 0.4481, 0.3975], std: [0.2302, 0.2265, 0.2262])
    /// Mean and std of all 1,797 digits images (pixels / 16).
    public static let digits = Normalization(mean: [0.3053], std: [0.3760])
    public static let fashionMNIST = Normalization(mean: [0.2860], std: [0.3530])
    public static let mnist = Normalization(mean: [0.1307], std: [0.3081])
    /// Already centred data (synthetic).
    public static func identity(channels: Int) -> Normalization {
        Normalization(mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels))
    }
}

/// Train-time augmentation of docs/data.md, applied in this order:
/// RandomCrop (zero padding) → Cutout → horizontal flip → normalise; or, with
/// an automatic `policy` (`-cutupmix_auto`), on the 8-bit image: horizontal
/// flip → policy, then normalise → RandomErasing.
public struct Augmentation: Sendable, Equatable {
    /// RandomCrop to the image size after zero-padding each side by this
    /// many pixels (4 for CIFAR); nil: no crop.
    public var cropPadding: Int?
    /// torchtoolbox `Cutout()` defaults: p 0.5, area U(0.02, 0.4), ratio
    /// U(0.4, 2.5), one random value in 0…255 for all channels.
    public var cutout: Bool
    /// RandomHorizontalFlip(0.5).
    public var horizontalFlip: Bool
    /// Event frames only: rotation by an integer angle in `−d … d − 1`
    /// degrees (0: none); see `FrameAugmentation`.
    public var rotationDegrees: Int = 0
    /// TrivialAugmentWide or AutoAugment on the 8-bit image after the flip
    /// (images with `maxValue` 255; no crop padding or Cutout with it).
    public var policy: AutoAugmentPolicy?
    /// RandomErasing probability (torchvision defaults otherwise), after normalising; 0: off.
    public var randomErasing: Float

    public init(cropPadding: Int? = nil, cutout: Bool = false, horizontalFlip: Bool = false,
                policy: AutoAugmentPolicy? = nil, randomErasing: Float = 0) {
        precondition(policy == nil || (cropPadding ?? 0) == 0 && !cutout, "Augmentation: a policy replaces crop padding and Cutout")
        self.cropPadding = cropPadding; self.cutout = cutout; self.horizontalFlip = horizontalFlip
        self.policy = policy; self.randomErasing = randomErasing
    }

    public static let none = Augmentation()
    public static let cifar = Augmentation(cropPadding: 4, cutout: true, horizontalFlip: true)
    /// The original's `-cutupmix_auto` per-sample transform for CIFAR
    /// (torchvision references' ClassificationPresetTrain with `ta_wide`, random_erase 0.1).
    public static let cifarTrivialAugment = Augmentation(horizontalFlip: true, policy: .trivialAugmentWide, randomErasing: 0.1)
}

// Legend: C channels, H×W image; images are [C, H, W].

public enum ImageTransform {
    /// Writes image `index` of `set`, augmented with draws from `stream` and
    /// normalised, into `out` (`[C, H, W]` fp32).
    public static func prepare(_ set: ImageSet, index: Int, augmentation: Augmentation, normalization: Normalization,
                               stream: inout RandomStream, into out: UnsafeMutablePointer<Float>) {
        let c = set.channels, h = set.height, w = set.width
        precondition(normalization.mean.count == c, "ImageTransform: \(normalization.mean.count) means for \(c) channels")
        let pixels = set.image(index)
        let scale = 1 / set.maxValue
        if let policy = augmentation.policy {
            precondition(set.maxValue == 255, "ImageTransform: automatic policies need 8-bit images, maxValue \(set.maxValue)")
            var image = PixelImage(channels: c, height: h, width: w, pixels: Array(pixels))
            if augmentation.horizontalFlip && stream.uniform() < 0.5 { image = PixelOps.flip(image) }
            image = policy.augment(image, stream: &stream)
            for i in 0..<(c * h * w) { out[i] = Float(image.pixels[i]) * scale }
            normalize(out, channels: c, planeSize: h * w, normalization)
            if augmentation.randomErasing > 0 {
                randomErasing(out, channels: c, height: h, width: w, probability: augmentation.randomErasing, stream: &stream)
            }
            return
        }
        // Pixels in [0, 1], cropped.
        var top = 0, left = 0, pad = 0
        if let padding = augmentation.cropPadding {
            pad = padding
            top = stream.integer(below: 2 * padding + 1)
            left = stream.integer(below: 2 * padding + 1)
        }
        var base = pixels.startIndex
        for ch in 0..<c {
            for y in 0..<h {
                for x in 0..<w {
                    let sy = y + top - pad, sx = x + left - pad
                    let inside = sy >= 0 && sy < h && sx >= 0 && sx < w
                    out[(ch * h + y) * w + x] = inside ? Float(pixels[base + sy * w + sx]) * scale : 0
                }
            }
            base += h * w
        }
        if augmentation.cutout { cutout(out, channels: c, height: h, width: w, stream: &stream) }
        if augmentation.horizontalFlip && stream.uniform() < 0.5 {
            for row in 0..<(c * h) {
                let line = out + row * w
                for x in 0..<(w / 2) { line.swapAt(x, w - 1 - x) }
            }
        }
        normalize(out, channels: c, planeSize: h * w, normalization)
    }

    static func normalize(_ image: UnsafeMutablePointer<Float>, channels: Int, planeSize: Int, _ normalization: Normalization) {
        for ch in 0..<channels {
            let plane = image + ch * planeSize
            let mean = normalization.mean[ch], inverse = 1 / normalization.std[ch]
            for i in 0..<planeSize { plane[i] = (plane[i] - mean) * inverse }
        }
    }

    /// torchvision RandomErasing(p, scale (0.02, 0.33), ratio (0.3, 3.3), value 0):
    /// up to 10 tries for a box of that area and aspect that fits, filled with 0.
    static func randomErasing(_ image: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int,
                              probability: Float, stream: inout RandomStream) {
        guard stream.uniform() < probability else { return }
        let area = Double(height * width)
        let logLow = Float(Foundation.log(0.3)), logHigh = Float(Foundation.log(3.3))
        for _ in 0..<10 {
            let eraseArea = area * Double(stream.uniform(0.02, 0.33))
            let aspect = Foundation.exp(Double(stream.uniform(logLow, logHigh)))
            let h = Int((eraseArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let w = Int((eraseArea / aspect).squareRoot().rounded(.toNearestOrEven))
            guard h < height && w < width else { continue }
            let top = stream.integer(below: height - h + 1), left = stream.integer(below: width - w + 1)
            for ch in 0..<channels {
                for y in top..<(top + h) {
                    for x in left..<(left + w) { image[(ch * height + y) * width + x] = 0 }
                }
            }
            return
        }
    }

    /// torchtoolbox Cutout with its default parameters on a [0, 1] image.
    static func cutout(_ image: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int,
                       stream: inout RandomStream) {
        guard stream.uniform() < 0.5 else { return }
        let area = Double(stream.uniform(0.02, 0.4)) * Double(height * width)
        let ratio = Double(stream.uniform(0.4, 1 / 0.4))
        let w = min(width, Int((area / ratio).squareRoot()))
        let h = min(height, Int((area * ratio).squareRoot()))
        let left = stream.integer(below: width - w + 1), top = stream.integer(below: height - h + 1)
        let value = Float(stream.integer(below: 256)) / 255
        for ch in 0..<channels {
            for y in top..<(top + h) {
                for x in left..<(left + w) { image[(ch * height + y) * width + x] = value }
            }
        }
    }
}

extension UnsafeMutablePointer {
    @inlinable
    func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]; self[i] = self[j]; self[j] = t
    }
}
