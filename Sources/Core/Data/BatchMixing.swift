import Foundation

// Legend: N samples, C channels, H×W image, K classes.

/// The per-batch half of the original's `-cutupmix_auto`: torchvision
/// references' `RandomChoice([RandomMixup(p=1, α=0.2), RandomCutmix(p=1, α=1)])`
/// applied to every training batch, with soft labels.
///
/// Both pair sample i of the global batch with sample i − 1 (the batch rolled
/// by one, sample 0 with the last). The draw — which of the two, λ, the box —
/// is a pure function of (seed, epoch, global batch index), so every process
/// mixes its shard of a batch exactly as one process mixes the whole batch.
public struct BatchMixing: Sendable, Equatable {
    public var mixupAlpha: Double
    public var cutmixAlpha: Double

    public init(mixupAlpha: Double = 0.2, cutmixAlpha: Double = 1.0) {
        precondition(mixupAlpha > 0 && cutmixAlpha > 0, "BatchMixing: α \(mixupAlpha), \(cutmixAlpha)")
        self.mixupAlpha = mixupAlpha; self.cutmixAlpha = cutmixAlpha
    }

    /// What happens to one batch.
    public enum Draw: Sendable, Equatable {
        /// `x·λ + partner·(1 − λ)`, targets likewise.
        case mixup(lambda: Double)
        /// The partner's pixels in rows `top..<bottom`, columns `left..<right`;
        /// λ = 1 − box area / image area weights the targets.
        case cutmix(top: Int, left: Int, bottom: Int, right: Int, lambda: Double)

        public var lambda: Double {
            switch self { case .mixup(let l), .cutmix(_, _, _, _, let l): return l }
        }
    }

    /// The draw of global batch `batch` in `epoch`, for `height`×`width` images.
    public func draw(seed: UInt64, epoch: Int, batch: Int, height: Int, width: Int) -> Draw {
        var stream = RandomStream(seed: seed, name: "mix", UInt64(epoch), UInt64(batch))
        if stream.integer(below: 2) == 0 {
            return .mixup(lambda: BatchMixing.beta(mixupAlpha, &stream))
        }
        // RandomCutmix: a centre anywhere, half-sides ⌊½·√(1 − λ)·side⌋, clipped to the image.
        let lambda = BatchMixing.beta(cutmixAlpha, &stream)
        let cx = stream.integer(below: width), cy = stream.integer(below: height)
        let r = 0.5 * (1.0 - lambda).squareRoot()
        let halfWidth = Int(r * Double(width)), halfHeight = Int(r * Double(height))
        let left = max(cx - halfWidth, 0), top = max(cy - halfHeight, 0)
        let right = min(cx + halfWidth, width), bottom = min(cy + halfHeight, height)
        let area = Double((right - left) * (bottom - top))
        return .cutmix(top: top, left: left, bottom: bottom, right: right, lambda: 1.0 - area / Double(width * height))
    }

    /// Beta(α, α) as X / (X + Y) with X, Y ~ Gamma(α) (torch's Dirichlet sampler draws the same way).
    static func beta(_ alpha: Double, _ stream: inout RandomStream) -> Double {
        let x = gamma(alpha, &stream), y = gamma(alpha, &stream)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    /// Gamma(α, 1): Marsaglia and Tsang (2000); α < 1 through Gamma(α + 1)·U^(1/α).
    static func gamma(_ alpha: Double, _ stream: inout RandomStream) -> Double {
        if alpha < 1 {
            let u = 1 - stream.uniformDouble()                // (0, 1]
            return gamma(alpha + 1, &stream) * pow(u, 1 / alpha)
        }
        let d = alpha - 1.0 / 3.0, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat { x = Double(stream.normal()); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = stream.uniformDouble()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Mixes `images` `[N + 1, C, H, W]` — the partner of the first sample,
    /// then the N samples of this shard in global-batch order — into
    /// `[N, C, H, W]`, and returns the soft targets `[N, K]` (float32, as
    /// torchvision computes them) and the hard labels they favour (argmax).
    public static func apply(_ draw: Draw, images: Tensor, labels: [Int], classes: Int) -> Batch {
        precondition(images.rank == 4 && images.shape[0] == labels.count && !labels.isEmpty,
                     "BatchMixing.apply: images \(images.shape), \(labels.count) labels")
        let n = labels.count - 1, c = images.shape[1], h = images.shape[2], w = images.shape[3]
        let size = c * h * w
        var out = Tensor(zeros: [n, c, h, w])
        let lambda = Float(draw.lambda), rest = Float(1.0 - draw.lambda)
        images.data.withUnsafeBufferPointer { src in
            out.withMutablePointer { dst in
                for j in 0..<n {
                    let x = (j + 1) * size, partner = j * size, o = j * size
                    switch draw {
                    case .mixup:
                        for i in 0..<size { dst[o + i] = src[x + i] * lambda + src[partner + i] * rest }
                    case .cutmix(let top, let left, let bottom, let right, _):
                        for i in 0..<size { dst[o + i] = src[x + i] }
                        for ch in 0..<c {
                            for y in top..<bottom {
                                for xx in left..<right {
                                    let k = (ch * h + y) * w + xx
                                    dst[o + k] = src[partner + k]
                                }
                            }
                        }
                    }
                }
            }
        }
        var soft = [Float](repeating: 0, count: n * classes)
        var hard = [Int](repeating: 0, count: n)
        for j in 0..<n {
            soft[j * classes + labels[j + 1]] += lambda
            soft[j * classes + labels[j]] += rest
            let row = soft[(j * classes)..<((j + 1) * classes)]
            hard[j] = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - j * classes
        }
        return Batch(images: out, labels: hard, softTargets: soft)
    }
}
