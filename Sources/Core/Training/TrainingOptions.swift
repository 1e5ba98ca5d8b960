import Foundation

/// Hyper-parameters of a run (the original's flags; docs/training.md).
public struct TrainingOptions: Sendable {
    public var timeSteps = 6
    public var batchSize = 128
    public var epochs = 300
    public var learningRate: Float = 0.1
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var optimizer = OptimizerKind.sgd
    public var schedule = LearningRateSchedule.cosine(tMax: 300)
    public var loss = LossConfig()
    public var seed: UInt64 = 2022
    /// Stop after this many optimiser steps in total (nil: run every epoch).
    public var maxSteps: Int?
    public var shuffle = true
    public var augment = true
    public var batchNorm = BatchNormStatistics.sync
    public var onNonFinite = NonFiniteStep.stop
    /// Mixup / CutMix per training batch (`-cutupmix_auto` on CIFAR); applied only with `augment`.
    public var mixing: BatchMixing?
    /// Leave out each epoch's incomplete last training batch.
    public var dropLastBatch = false
    /// `-amp`: bf16 operands and results at convolutions and linear layers
    /// (training and evaluation); fp32 master weights.
    public var precision = Precision.fp32
    /// Samples per reduction chunk, the unit of work (see `BatchLayout`):
    /// fixed for a run, never a function of the process or thread count.
    public var chunkSamples = BatchLayout.defaultChunkSamples

    public init() {}

    public func makeOptimizer() -> Optimizer {
        switch optimizer {
        case .sgd: return SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        case .adamW: return AdamW(learningRate: learningRate, weightDecay: weightDecay)
        }
    }
}

/// Whose BatchNorm statistics a training step normalises with (flag `--bn`).
public enum BatchNormStatistics: String, CaseIterable, Sendable {
    /// The global batch's: the same model as one process.
    case sync
    /// Each process's own batch, running statistics taken from the first
    /// process after every step (PyTorch DDP's default).
    case local
}

/// What a NaN or infinity in the loss or the gradients does (flag `--on-nan`).
public enum NonFiniteStep: String, CaseIterable, Sendable {
    /// Stop the run, naming the step and the first parameter affected.
    case stop
    /// Skip the step: parameters and BatchNorm buffers stay as they were.
    case skip
}
