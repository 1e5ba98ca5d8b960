import Foundation

// Legend: C channels, H×W image; pixels are bytes `[C, H, W]`.

/// An 8-bit image being augmented, `[C, H, W]` (C = 3 for RGB, 1 for greyscale).
public struct PixelImage: Sendable, Equatable {
    public let channels: Int, height: Int, width: Int
    public var pixels: [UInt8]

    public init(channels: Int, height: Int, width: Int, pixels: [UInt8]) {
        precondition(pixels.count == channels * height * width, "PixelImage: \(pixels.count) bytes for \(channels)×\(height)×\(width)")
        self.channels = channels; self.height = height; self.width = width; self.pixels = pixels
    }

    @inlinable
    subscript(c: Int, y: Int, x: Int) -> UInt8 { pixels[(c * height + y) * width + x] }
}

/// How geometric ops sample the source image (torchvision's `InterpolationMode`).
public enum Interpolation: Sendable, Equatable { case nearest, bilinear }

/// The image operations of torchvision's AutoAugment family applied to PIL
/// images, with Pillow's arithmetic (Geometry.c, Blend.c, Filter.c, Convert.c,
/// ImageOps, ImageEnhance) so that results match the original's bit for bit
/// where Pillow's integer and float32 steps can be repeated exactly.
/// Out-of-image samples are filled with 0, as torchvision passes `fill=0`.
public enum PixelOps {
    // MARK: Geometry

    /// Pillow `Image.transform(size, AFFINE, matrix, resample)`: output pixel
    /// (x, y) samples the input at `(a0·(x+½) + a1·(y+½) + a2, a3·(x+½) + a4·(y+½) + a5)`.
    public static func affine(_ image: PixelImage, matrix a: [Double], interpolation: Interpolation) -> PixelImage {
        precondition(a.count == 6, "PixelOps.affine: matrix \(a)")
        let c = image.channels, h = image.height, w = image.width
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        switch interpolation {
        case .bilinear:
            // Geometry.c ImagingGenericTransform + affine_transform + bilinear_filter.
            for y in 0..<h {
                for x in 0..<w {
                    let xx = a[0] * (Double(x) + 0.5) + a[1] * (Double(y) + 0.5) + a[2]
                    let yy = a[3] * (Double(x) + 0.5) + a[4] * (Double(y) + 0.5) + a[5]
                    guard xx >= 0, xx < Double(w), yy >= 0, yy < Double(h) else { continue }
                    let xin = xx - 0.5, yin = yy - 0.5
                    let xf = Int(floor(xin)), yf = Int(floor(yin))
                    let dx = xin - Double(xf), dy = yin - Double(yf)
                    let x0 = min(max(xf, 0), w - 1), x1 = min(max(xf + 1, 0), w - 1)
                    let yTop = min(max(yf, 0), h - 1)
                    let hasBelow = yf + 1 >= 0 && yf + 1 < h
                    for ch in 0..<c {
                        let p0 = Double(image[ch, yTop, x0]), p1 = Double(image[ch, yTop, x1])
                        let v1 = p0 + (p1 - p0) * dx
                        var v2 = v1
                        if hasBelow {
                            let q0 = Double(image[ch, yf + 1, x0]), q1 = Double(image[ch, yf + 1, x1])
                            v2 = q0 + (q1 - q0) * dx
                        }
                        out[(ch * h + y) * w + x] = UInt8(v1 + (v2 - v1) * dy)
                    }
                }
            }
        case .nearest:
            // Geometry.c affine_fixed: 16.16 fixed point, stepped per pixel and row.
            func fix(_ v: Double) -> Int { Int(floor(v * 65536.0 + 0.5)) }
            let a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4])
            var a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5), a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5)
            for y in 0..<h {
                var xx = a2, yy = a5
                for x in 0..<w {
                    let xin = xx >> 16, yin = yy >> 16
                    if xin >= 0 && xin < w && yin >= 0 && yin < h {
                        for ch in 0..<c { out[(ch * h + y) * w + x] = image[ch, yin, xin] }
                    }
                    xx += a0; yy += a3
                }
                a2 += a1; a5 += a4
            }
        }
        return PixelImage(channels: c, height: h, width: w, pixels: out)
    }

    /// torchvision `_get_inverse_affine_matrix(center, angle, translate, scale 1, shear)`, degrees.
    public static func inverseAffineMatrix(center: (Double, Double), angle: Double, translate: (Double, Double),
                                           shear: (Double, Double)) -> [Double] {
        let rot = radians(angle), sx = radians(shear.0), sy = radians(shear.1)
        let (cx, cy) = center, (tx, ty) = translate
        let a = cos(rot - sy) / cos(sy)
        let b = -cos(rot - sy) * tan(sx) / cos(sy) - sin(rot)
        let c = sin(rot - sy) / cos(sy)
        let d = -sin(rot - sy) * tan(sx) / cos(sy) + cos(rot)
        var m = [d, -b, 0.0, -c, a, 0.0]
        m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
        m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
        m[2] += cx
        m[5] += cy
        return m
    }

    /// CPython's `math.radians` / `math.degrees`.
    static func radians(_ degrees: Double) -> Double { degrees * (Double.pi / 180.0) }
    static func degrees(_ radians: Double) -> Double { radians * (180.0 / Double.pi) }

    /// torchvision `F.affine` on a PIL image with shear only, about `center` (pixels).
    public static func shear(_ image: PixelImage, x: Double, y: Double, center: (Double, Double),
                             interpolation: Interpolation) -> PixelImage {
        affine(image, matrix: inverseAffineMatrix(center: center, angle: 0, translate: (0, 0), shear: (x, y)),
               interpolation: interpolation)
    }

    /// torchvision `F.affine` with an integer translation (about the image centre).
    public static func translate(_ image: PixelImage, x: Int, y: Int, interpolation: Interpolation) -> PixelImage {
        let center = (Double(image.width) * 0.5, Double(image.height) * 0.5)
        return affine(image, matrix: inverseAffineMatrix(center: center, angle: 0, translate: (Double(x), Double(y)),
                                                         shear: (0, 0)), interpolation: interpolation)
    }

    /// Pillow `Image.rotate(angle, resample)` (counter-clockwise degrees, about the centre, same size).
    public static func rotate(_ image: PixelImage, degrees angle: Double, interpolation: Interpolation) -> PixelImage {
        let turn = angle - 360.0 * floor(angle / 360.0)   // Python's angle % 360.0
        let h = image.height, w = image.width
        if turn == 0 { return image }
        if turn == 180 || ((turn == 90 || turn == 270) && w == h) {
            // Pillow transposes: an exact permutation of the pixels.
            var out = image.pixels
            for ch in 0..<image.channels {
                for y in 0..<h {
                    for x in 0..<w {
                        let (sy, sx): (Int, Int)
                        switch turn {
                        case 180: (sy, sx) = (h - 1 - y, w - 1 - x)
                        case 90: (sy, sx) = (x, w - 1 - y)
                        default: (sy, sx) = (h - 1 - x, y)
                        }
                        out[(ch * h + y) * w + x] = image[ch, sy, sx]
                    }
                }
            }
            return PixelImage(channels: image.channels, height: h, width: w, pixels: out)
        }
        let r = -radians(turn)
        // Python's round(v, 15): the correctly rounded 15-decimal value, as printf gives it.
        func round15(_ v: Double) -> Double { Double(String(format: "%.15f", v)) ?? v }
        var m = [round15(cos(r)), round15(sin(r)), 0.0, round15(-sin(r)), round15(cos(r)), 0.0]
        let cx = Double(w) / 2, cy = Double(h) / 2
        m[2] = m[0] * -cx + m[1] * -cy + m[2]
        m[5] = m[3] * -cx + m[4] * -cy + m[5]
        m[2] += cx
        m[5] += cy
        return affine(image, matrix: m, interpolation: interpolation)
    }

    // MARK: Colour (ImageEnhance = Image.blend(degenerate, image, factor))

    /// Blend.c: `out = in1 + α·(in2 − in1)` in float32, truncated; clamped to
    /// 0…255 outside α ∈ [0, 1].
    static func blend(_ degenerate: [UInt8], _ image: PixelImage, factor: Double) -> PixelImage {
        let alpha = Float(factor)
        var out = image.pixels
        let inside = alpha >= 0 && alpha <= 1
        for i in 0..<out.count {
            let a = Int32(degenerate[i]), b = Int32(image.pixels[i])
            let t = Float(a) + alpha * Float(b - a)
            out[i] = inside ? UInt8(t) : (t <= 0 ? 0 : (t >= 255 ? 255 : UInt8(t)))
        }
        return PixelImage(channels: image.channels, height: image.height, width: image.width, pixels: out)
    }

    /// Convert.c rgb2l: `L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16`, one plane `[H·W]`.
    static func luminance(_ image: PixelImage) -> [UInt8] {
        let n = image.height * image.width
        guard image.channels == 3 else { return Array(image.pixels[0..<n]) }
        return (0..<n).map { i in
            let r = Int(image.pixels[i]), g = Int(image.pixels[n + i]), b = Int(image.pixels[2 * n + i])
            return UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
    }

    public static func brightness(_ image: PixelImage, factor: Double) -> PixelImage {
        blend([UInt8](repeating: 0, count: image.pixels.count), image, factor: factor)
    }

    /// ImageEnhance.Color: blend with the greyscale version.
    public static func color(_ image: PixelImage, factor: Double) -> PixelImage {
        let grey = luminance(image)
        return blend(Array((0..<image.channels).map { _ in grey }.joined()), image, factor: factor)
    }

    /// ImageEnhance.Contrast: blend with the mean grey level `int(mean(L) + 0.5)`.
    public static func contrast(_ image: PixelImage, factor: Double) -> PixelImage {
        let grey = luminance(image)
        let mean = Int(Double(grey.reduce(0) { $0 + Int($1) }) / Double(grey.count) + 0.5)
        return blend([UInt8](repeating: UInt8(mean), count: image.pixels.count), image, factor: factor)
    }

    /// ImageEnhance.Sharpness: blend with ImageFilter.SMOOTH (3×3 kernel
    /// 1 1 1 / 1 5 1 / 1 1 1 over 13, float32; border pixels copied).
    public static func sharpness(_ image: PixelImage, factor: Double) -> PixelImage {
        let h = image.height, w = image.width
        var smooth = image.pixels
        let edge: Float = 1 / 13, centre: Float = 5 / 13
        if h > 2 && w > 2 {
            for ch in 0..<image.channels {
                for y in 1..<(h - 1) {
                    for x in 1..<(w - 1) {
                        // Filter.c sums the rows below, at, above; each row left to right.
                        func row(_ yy: Int, _ k: Float) -> Float {
                            Float(image[ch, yy, x - 1]) * edge + Float(image[ch, yy, x]) * k + Float(image[ch, yy, x + 1]) * edge
                        }
                        var s: Float = 0
                        s += row(y + 1, edge)
                        s += row(y, centre)
                        s += row(y - 1, edge)
                        smooth[(ch * h + y) * w + x] = s <= 0 ? 0 : (s >= 255 ? 255 : UInt8(s + 0.5))
                    }
                }
            }
        }
        return blend(smooth, image, factor: factor)
    }

    // MARK: Lookup tables (ImageOps)

    static func applyTables(_ image: PixelImage, _ table: (Int) -> [UInt8]) -> PixelImage {
        var out = image.pixels
        let n = image.height * image.width
        for ch in 0..<image.channels {
            let lut = table(ch)
            for i in (ch * n)..<((ch + 1) * n) { out[i] = lut[Int(out[i])] }
        }
        return PixelImage(channels: image.channels, height: image.height, width: image.width, pixels: out)
    }

    static func histogram(_ image: PixelImage, channel: Int) -> [Int] {
        var h = [Int](repeating: 0, count: 256)
        let n = image.height * image.width
        for i in (channel * n)..<((channel + 1) * n) { h[Int(image.pixels[i])] += 1 }
        return h
    }

    /// ImageOps.posterize: keep the top `bits` bits.
    public static func posterize(_ image: PixelImage, bits: Int) -> PixelImage {
        precondition((1...8).contains(bits), "PixelOps.posterize: bits \(bits)")
        let mask = UInt8(truncatingIfNeeded: ~((1 << (8 - bits)) - 1))
        return applyTables(image) { _ in (0..<256).map { UInt8($0) & mask } }
    }

    /// ImageOps.solarize: invert values at or above `threshold`.
    public static func solarize(_ image: PixelImage, threshold: Double) -> PixelImage {
        applyTables(image) { _ in (0..<256).map { Double($0) < threshold ? UInt8($0) : UInt8(255 - $0) } }
    }

    public static func invert(_ image: PixelImage) -> PixelImage {
        applyTables(image) { _ in (0..<256).map { UInt8(255 - $0) } }
    }

    /// ImageOps.autocontrast (no cutoff): stretch each channel's [lo, hi] to [0, 255].
    public static func autocontrast(_ image: PixelImage) -> PixelImage {
        applyTables(image) { ch in
            let h = histogram(image, channel: ch)
            guard let lo = h.firstIndex(where: { $0 > 0 }), let hi = h.lastIndex(where: { $0 > 0 }), hi > lo else {
                return (0..<256).map { UInt8($0) }
            }
            let scale = 255.0 / Double(hi - lo), offset = -Double(lo) * scale
            return (0..<256).map { UInt8(min(max(Int(Double($0) * scale + offset), 0), 255)) }
        }
    }

    /// ImageOps.equalize: each channel's cumulative histogram as a lookup table.
    public static func equalize(_ image: PixelImage) -> PixelImage {
        applyTables(image) { ch in
            let h = histogram(image, channel: ch)
            let used = h.filter { $0 > 0 }
            let identity = (0..<256).map { UInt8($0) }
            guard used.count > 1, let last = used.last else { return identity }
            let step = (used.reduce(0, +) - last) / 255
            guard step > 0 else { return identity }
            var n = step / 2
            return (0..<256).map { i in
                defer { n += h[i] }
                return UInt8(min(n / step, 255))
            }
        }
    }

    /// Horizontal flip.
    public static func flip(_ image: PixelImage) -> PixelImage {
        var out = image.pixels
        let w = image.width
        for row in 0..<(image.channels * image.height) {
            for x in 0..<w { out[row * w + x] = image.pixels[row * w + (w - 1 - x)] }
        }
        return PixelImage(channels: image.channels, height: image.height, width: w, pixels: out)
    }
}
