import Foundation

/// The torchvision automatic augmentation policies the original's
/// `-cutupmix_auto` uses, on 8-bit images (`PixelOps`).
public enum AutoAugmentPolicy: String, Sendable, Equatable {
    /// `TrivialAugmentWide(interpolation=BILINEAR)`: one op of 14, one of 31
    /// magnitude bins, a random sign (CIFAR).
    case trivialAugmentWide
    /// `AutoAugment(AutoAugmentPolicy.IMAGENET)` with its default NEAREST
    /// interpolation: one of 25 sub-policies of two ops, each applied with its
    /// probability at a fixed magnitude bin of 10 (Tiny-ImageNet).
    case imageNet

    public enum Op: String, Sendable, CaseIterable {
        case identity = "Identity", shearX = "ShearX", shearY = "ShearY", translateX = "TranslateX"
        case translateY = "TranslateY", rotate = "Rotate", brightness = "Brightness", color = "Color"
        case contrast = "Contrast", sharpness = "Sharpness", posterize = "Posterize", solarize = "Solarize"
        case autoContrast = "AutoContrast", equalize = "Equalize", invert = "Invert"
    }

    /// TrivialAugmentWide's ops in torchvision's dictionary order (the index drawn).
    public static let trivialOps: [Op] = [.identity, .shearX, .shearY, .translateX, .translateY, .rotate, .brightness,
                                          .color, .contrast, .sharpness, .posterize, .solarize, .autoContrast, .equalize]

    /// torchvision's `_get_policies(IMAGENET)`: (op, probability, magnitude bin) pairs.
    public static let imageNetPolicies: [[(Op, Double, Int?)]] = [
        [(.posterize, 0.4, 8), (.rotate, 0.6, 9)], [(.solarize, 0.6, 5), (.autoContrast, 0.6, nil)],
        [(.equalize, 0.8, nil), (.equalize, 0.6, nil)], [(.posterize, 0.6, 7), (.posterize, 0.6, 6)],
        [(.equalize, 0.4, nil), (.solarize, 0.2, 4)], [(.equalize, 0.4, nil), (.rotate, 0.8, 8)],
        [(.solarize, 0.6, 3), (.equalize, 0.6, nil)], [(.posterize, 0.8, 5), (.equalize, 1.0, nil)],
        [(.rotate, 0.2, 3), (.solarize, 0.6, 8)], [(.equalize, 0.6, nil), (.posterize, 0.4, 6)],
        [(.rotate, 0.8, 8), (.color, 0.4, 0)], [(.rotate, 0.4, 9), (.equalize, 0.6, nil)],
        [(.equalize, 0.0, nil), (.equalize, 0.8, nil)], [(.invert, 0.6, nil), (.equalize, 1.0, nil)],
        [(.color, 0.6, 4), (.contrast, 1.0, 8)], [(.rotate, 0.8, 8), (.color, 1.0, 2)],
        [(.color, 0.8, 8), (.solarize, 0.8, 7)], [(.sharpness, 0.4, 7), (.invert, 0.6, nil)],
        [(.shearX, 0.6, 5), (.equalize, 1.0, nil)], [(.color, 0.4, 0), (.equalize, 0.6, nil)],
        [(.equalize, 0.4, nil), (.solarize, 0.2, 4)], [(.solarize, 0.6, 5), (.autoContrast, 0.6, nil)],
        [(.invert, 0.6, nil), (.equalize, 1.0, nil)], [(.color, 0.6, 4), (.contrast, 1.0, 8)],
        [(.equalize, 0.8, nil), (.equalize, 0.6, nil)],
    ]

    /// `torch.linspace(start, end, steps)` in float32 as torch 2.13's CPU
    /// kernel computes it: from the start for the first half, from the end
    /// for the rest, each value one fused multiply-add (measured against
    /// torch: the unfused products give 0.627 for 0.62700003 and 16 for 15.999999).
    static func linspace(_ start: Float, _ end: Float, _ steps: Int) -> [Float] {
        let step = (end - start) / Float(steps - 1)
        return (0..<steps).map { i in
            i < steps / 2 ? start.addingProduct(step, Float(i)) : end.addingProduct(-step, Float(steps - i - 1))
        }
    }

    /// The magnitude bins of `op` for `bins` bins (31 for TrivialAugmentWide,
    /// 10 for AutoAugment on a `height`×`width` image), and whether a random
    /// sign applies; nil for ops without a magnitude.
    public func magnitudes(_ op: Op, height: Int, width: Int) -> (bins: [Float], signed: Bool)? {
        let wide = self == .trivialAugmentWide
        let n = wide ? 31 : 10
        switch op {
        case .identity, .autoContrast, .equalize, .invert: return nil
        case .shearX, .shearY: return (AutoAugmentPolicy.linspace(0, wide ? 0.99 : 0.3, n), true)
        case .translateX: return (AutoAugmentPolicy.linspace(0, wide ? 32 : Float(150.0 / 331.0 * Double(width)), n), true)
        case .translateY: return (AutoAugmentPolicy.linspace(0, wide ? 32 : Float(150.0 / 331.0 * Double(height)), n), true)
        case .rotate: return (AutoAugmentPolicy.linspace(0, wide ? 135 : 30, n), true)
        case .brightness, .color, .contrast, .sharpness: return (AutoAugmentPolicy.linspace(0, wide ? 0.99 : 0.9, n), true)
        case .posterize:
            // 8 − round(i / ((n − 1) / k)), k = 6 (wide) or 4, in float32.
            let divisor = Float(n - 1) / (wide ? 6 : 4)
            return ((0..<n).map { 8 - (Float($0) / divisor).rounded(.toNearestOrEven) }, false)
        case .solarize: return (AutoAugmentPolicy.linspace(255, 0, n), false)
        }
    }

    public var interpolation: Interpolation { self == .trivialAugmentWide ? .bilinear : .nearest }

    /// torchvision `_apply_op` on a PIL image.
    public static func apply(_ op: Op, magnitude: Double, to image: PixelImage, interpolation: Interpolation) -> PixelImage {
        switch op {
        case .identity: return image
        case .shearX:
            return PixelOps.shear(image, x: PixelOps.degrees(atan(magnitude)), y: 0, center: (0, 0), interpolation: interpolation)
        case .shearY:
            return PixelOps.shear(image, x: 0, y: PixelOps.degrees(atan(magnitude)), center: (0, 0), interpolation: interpolation)
        case .translateX: return PixelOps.translate(image, x: Int(magnitude), y: 0, interpolation: interpolation)
        case .translateY: return PixelOps.translate(image, x: 0, y: Int(magnitude), interpolation: interpolation)
        case .rotate: return PixelOps.rotate(image, degrees: magnitude, interpolation: interpolation)
        case .brightness: return PixelOps.brightness(image, factor: 1 + magnitude)
        case .color: return PixelOps.color(image, factor: 1 + magnitude)
        case .contrast: return PixelOps.contrast(image, factor: 1 + magnitude)
        case .sharpness: return PixelOps.sharpness(image, factor: 1 + magnitude)
        case .posterize: return PixelOps.posterize(image, bits: Int(magnitude))
        case .solarize: return PixelOps.solarize(image, threshold: magnitude)
        case .autoContrast: return PixelOps.autocontrast(image)
        case .equalize: return PixelOps.equalize(image)
        case .invert: return PixelOps.invert(image)
        }
    }

    /// Augments `image` with draws from `stream` (the sample's augmentation stream).
    public func augment(_ image: PixelImage, stream: inout RandomStream) -> PixelImage {
        switch self {
        case .trivialAugmentWide:
            let op = AutoAugmentPolicy.trivialOps[stream.integer(below: AutoAugmentPolicy.trivialOps.count)]
            var magnitude = 0.0
            if let (bins, signed) = magnitudes(op, height: image.height, width: image.width) {
                magnitude = Double(bins[stream.integer(below: bins.count)])
                if signed && stream.integer(below: 2) == 1 { magnitude = -magnitude }
            }
            return AutoAugmentPolicy.apply(op, magnitude: magnitude, to: image, interpolation: interpolation)
        case .imageNet:
            let policy = AutoAugmentPolicy.imageNetPolicies[stream.integer(below: AutoAugmentPolicy.imageNetPolicies.count)]
            let draws = [stream.uniform(), stream.uniform()]
            let signs = [stream.integer(below: 2), stream.integer(below: 2)]
            var out = image
            for (i, (op, probability, bin)) in policy.enumerated() where draws[i] <= Float(probability) {
                var magnitude = 0.0
                if let bin, let (bins, signed) = magnitudes(op, height: image.height, width: image.width) {
                    magnitude = Double(bins[bin])
                    if signed && signs[i] == 0 { magnitude = -magnitude }
                }
                out = AutoAugmentPolicy.apply(op, magnitude: magnitude, to: out, interpolation: interpolation)
            }
            return out
        }
    }
}
