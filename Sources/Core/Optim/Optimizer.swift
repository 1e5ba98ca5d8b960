import Foundation

/// An optimiser over one flat parameter buffer (weight decay applies to every
/// parameter, as in the original), with its state in flat buffers of the same
/// layout so checkpoints and resumption see it whole.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// Named state buffers (`momentum_buffer`, `exp_avg`, …) and scalars, for checkpoints.
    var state: [String: [Float]] { get set }
    func step(parameters: inout [Float], gradients: [Float])
}

/// PyTorch SGD: `g += wd·p`; `buf = g` on the first step, then
/// `buf = momentum·buf + g`; `p −= lr·buf` (no dampening, no Nesterov).
/// The optimiser a run trains with (flag `-opt`).
public enum OptimizerKind: String, CaseIterable, Sendable {
    case sgd = "SGD"
    case adamW = "AdamW"
}

public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float
    private var buffer: [Float] = []

    public init(learningRate: Float = 0.1, momentum: Float = 0.9, weightDecay: Float = 5e-4) {
        self.learningRate = learningRate; self.momentum = momentum; self.weightDecay = weightDecay
    }

    public var state: [String: [Float]] {
        get { buffer.isEmpty ? [:] : ["momentum_buffer": buffer] }
        set { buffer = newValue["momentum_buffer"] ?? [] }
    }

    public func step(parameters p: inout [Float], gradients g: [Float]) {
        precondition(p.count == g.count, "SGD: \(p.count) parameters, \(g.count) gradients")
        let first = buffer.isEmpty
        if first { buffer = [Float](repeating: 0, count: p.count) }
        let (momentum, weightDecay, learningRate) = (self.momentum, self.weightDecay, self.learningRate)
        // Elementwise: ranges of parameters go to the workers.
        p.withUnsafeMutableBufferPointer { p in
            buffer.withUnsafeMutableBufferPointer { buffer in
                g.withUnsafeBufferPointer { g in
                    Parallel.forEachRange(p.count) { range in
                        for i in range {
                            let d = g[i] + weightDecay * p[i]
                            buffer[i] = (first || momentum == 0) ? d : momentum * buffer[i] + d
                            p[i] -= learningRate * buffer[i]
                        }
                    }
                }
            }
        }
    }
}

/// PyTorch AdamW (betas 0.9/0.999, eps 1e-8, decoupled weight decay).
public final class AdamW: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private var m: [Float] = [], v: [Float] = []
    private var stepCount = 0

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 1e-2) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2
        self.epsilon = epsilon; self.weightDecay = weightDecay
    }

    public var state: [String: [Float]] {
        get { m.isEmpty ? [:] : ["exp_avg": m, "exp_avg_sq": v, "step": [Float(stepCount)]] }
        set {
            m = newValue["exp_avg"] ?? []; v = newValue["exp_avg_sq"] ?? []
            stepCount = Int(newValue["step"]?.first ?? 0)
        }
    }

    public func step(parameters p: inout [Float], gradients g: [Float]) {
        precondition(p.count == g.count, "AdamW: \(p.count) parameters, \(g.count) gradients")
        if m.isEmpty { m = [Float](repeating: 0, count: p.count); v = m }
        stepCount += 1
        let correction1 = 1 - Foundation.pow(beta1, Float(stepCount))
        let correction2Root = (1 - Foundation.pow(beta2, Float(stepCount))).squareRoot()
        let stepSize = learningRate / correction1
        for i in 0..<p.count {
            p[i] *= 1 - learningRate * weightDecay
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            let denominator = v[i].squareRoot() / correction2Root + epsilon
            p[i] -= stepSize * m[i] / denominator
        }
    }
}

/// Learning-rate schedules stepped once per epoch.
public enum LearningRateSchedule: Sendable, Equatable {
    /// `CosALR`: `lr0·(1 + cos(π·e / T_max)) / 2`.
    case cosine(tMax: Int)
    /// `StepLR`: `lr0·gamma^⌊e / step_size⌋`.
    case step(stepSize: Int, gamma: Float)

    /// A schedule's name (flag `-lr_scheduler`).
    public enum Kind: String, CaseIterable, Sendable {
        case cosine = "CosALR"
        case step = "StepLR"
    }

    /// The schedule `kind` names, with the flags' constants.
    public init(_ kind: Kind, tMax: Int, stepSize: Int, gamma: Float) {
        switch kind {
        case .cosine: self = .cosine(tMax: tMax)
        case .step: self = .step(stepSize: stepSize, gamma: gamma)
        }
    }

    /// The learning rate used during epoch `epoch` (0-based).
    public func rate(base: Float, epoch: Int) -> Float {
        switch self {
        case .cosine(let tMax):
            return Float(Double(base) * (1 + Foundation.cos(Double.pi * Double(epoch) / Double(tMax))) / 2)
        case .step(let size, let gamma):
            return base * Foundation.pow(gamma, Float(epoch / size))
        }
    }
}
