import Foundation

// Legend: P planes (frames × polarities) of H×W; one draw serves every plane
// of a sample, so all its frames move together.

/// The original's train-time DVS-CIFAR10 augmentation on frames: a random
/// horizontal flip (p 0.5) and a rotation by an integer angle drawn from
/// `−degrees … degrees − 1` (`np.random.randint(-15, 15)`), counter-clockwise
/// about the centre with nearest-neighbour sampling and zero fill, as PIL's
/// `Image.rotate` — but keeping the H×W size (`expand=False`): the original's
/// `expand=True` grows each sample by its own angle, which cannot be batched.
public enum FrameAugmentation {
    /// Mirrors every row of `[P, H, W]` in place.
    public static func flipHorizontally(_ planes: inout [Float], planes p: Int, height h: Int, width w: Int) {
        for row in 0..<(p * h) {
            let base = row * w
            for x in 0..<(w / 2) { planes.swapAt(base + x, base + w - 1 - x) }
        }
    }

    /// `[P, H, W]` rotated by `degrees` counter-clockwise (PIL's convention).
    public static func rotate(_ planes: [Float], planes p: Int, height h: Int, width w: Int, degrees: Int) -> [Float] {
        guard degrees % 360 != 0 else { return planes }
        // PIL maps each output pixel centre back through the inverse rotation.
        let angle = -Double(degrees) * Double.pi / 180
        let c = (cos(angle) * 1e15).rounded() / 1e15, s = (sin(angle) * 1e15).rounded() / 1e15
        let cx = Double(w) / 2, cy = Double(h) / 2
        var out = [Float](repeating: 0, count: planes.count)
        for y in 0..<h {
            for x in 0..<w {
                let u = Double(x) + 0.5 - cx, v = Double(y) + 0.5 - cy
                let sx = (c * u + s * v + cx).rounded(.down), sy = (-s * u + c * v + cy).rounded(.down)
                guard sx >= 0 && sx < Double(w) && sy >= 0 && sy < Double(h) else { continue }
                let from = Int(sy) * w + Int(sx), to = y * w + x
                for plane in 0..<p { out[plane * h * w + to] = planes[plane * h * w + from] }
            }
        }
        return out
    }
}
