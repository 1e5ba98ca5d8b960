import Foundation

// Legend: T time steps, N samples, C classes; logits `[T, N, C]` are the
// original's `out_all` ([T·N, C], t-major).

/// The CLIF training loss: `L = (1 − λ)·CE(out_all, y_rep) + λ·MSE(out_all, target)`.
public struct LossConfig: Sendable, Equatable {
    /// λ, flag `-loss_lambda` (0.05); 0 gives plain cross-entropy.
    public var lambda: Float = 0.05
    /// The MSE target value when `mseOneHot` is off, flag `-loss_means` (1.0).
    public var lossMeans: Float = 1
    /// Flag `-mse_n_reg`: the MSE target is the one-hot label instead.
    public var mseOneHot: Bool = false
    /// Flag `-label_smoothing` (0.0), PyTorch's CE semantics.
    public var labelSmoothing: Float = 0

    public init(lambda: Float = 0.05, lossMeans: Float = 1, mseOneHot: Bool = false, labelSmoothing: Float = 0) {
        self.lambda = lambda; self.lossMeans = lossMeans
        self.mseOneHot = mseOneHot; self.labelSmoothing = labelSmoothing
    }
}

/// What each sample should be classified as.
public enum Targets: Sendable {
    /// Class indices `[N]`.
    case labels([Int])
    /// A probability distribution per sample `[N, C]` (Mixup / CutMix).
    case soft([Float])

    /// The target distribution of `sample` over `classes`.
    func distribution(_ sample: Int, classes: Int) -> [Float] {
        switch self {
        case .labels(let y):
            var q = [Float](repeating: 0, count: classes)
            q[y[sample]] = 1
            return q
        case .soft(let q):
            return Array(q[(sample * classes)..<((sample + 1) * classes)])
        }
    }
}

public enum Loss {
    /// The global-batch mean loss and its gradient w.r.t. the local logits.
    public static func evaluate(logits: Tensor, targets: Targets, config: LossConfig,
                                context: StepContext) -> (loss: Float, gradient: Tensor) {
        precondition(logits.rank == 3, "Loss: expected logits [T, N, C], got \(logits.shape)")
        let t = logits.shape[0], n = logits.shape[1], classes = logits.shape[2]
        let rows = Float(t * context.layout.globalBatch)
        let lambda = config.lambda, epsilon = config.labelSmoothing
        let ceScale = (1 - lambda) / rows, mseScale = lambda / (rows * Float(classes))
        var gradient = Tensor(zeros: logits.shape)
        // Per chunk: Σ CE over its rows, Σ squared error over its elements.
        var partials = [Float](repeating: 0, count: context.layout.chunkCount * 2)
        for (k, chunk) in context.chunks.enumerated() {
            var ceSum: Double = 0, squareSum: Double = 0
            for sample in chunk {
                let q = targets.distribution(sample, classes: classes)
                let smoothed = q.map { (1 - epsilon) * $0 + epsilon / Float(classes) }
                let mseTarget = config.mseOneHot ? q : [Float](repeating: config.lossMeans, count: classes)
                for step in 0..<t {
                    let base = (step * n + sample) * classes
                    let row = Array(logits.data[base..<(base + classes)])
                    let largest = row.max()!
                    let logSum = Foundation.log(row.reduce(Float(0)) { $0 + Foundation.exp($1 - largest) }) + largest
                    for c in 0..<classes {
                        let logP = row[c] - logSum
                        ceSum -= Double(smoothed[c] * logP)
                        let error = row[c] - mseTarget[c]
                        squareSum += Double(error * error)
                        gradient.data[base + c] = ceScale * (Foundation.exp(logP) - smoothed[c]) + mseScale * 2 * error
                    }
                }
            }
            partials[2 * k] = Float(ceSum)
            partials[2 * k + 1] = Float(squareSum)
        }
        let totals = context.reduce(partials, count: 2)
        let loss = (1 - lambda) * totals[0] / rows + lambda * totals[1] / (rows * Float(classes))
        return (loss, gradient)
    }
}

/// Top-1 and top-5 hits of the prediction `argmax_c Σ_t o_t`.
public enum Accuracy {
    public static func hits(logits: Tensor, labels: [Int]) -> (top1: Int, top5: Int) {
        let t = logits.shape[0], n = logits.shape[1], classes = logits.shape[2]
        var top1 = 0, top5 = 0
        for sample in 0..<n {
            var summed = [Float](repeating: 0, count: classes)
            for step in 0..<t {
                for c in 0..<classes { summed[c] += logits.data[(step * n + sample) * classes + c] }
            }
            let target = summed[labels[sample]]
            // Rank of the label: classes strictly ahead, ties broken by lower index as argmax does.
            var ahead = 0
            for c in 0..<classes where summed[c] > target || (summed[c] == target && c < labels[sample]) { ahead += 1 }
            if ahead == 0 { top1 += 1 }
            if ahead < 5 { top5 += 1 }
        }
        return (top1, top5)
    }
}
