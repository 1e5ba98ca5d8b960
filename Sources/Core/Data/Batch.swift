/// One batch as this process holds it.
public struct Batch: Sendable {
    /// `[N, C, H, W]` normalised static images, or `[T, N, C, H, W]` per-step
    /// event frames.
    public let images: Tensor
    /// Class indices; for mixed batches the class each soft target favours.
    public let labels: [Int]
    /// `[N, K]` target distributions of mixed batches (`BatchMixing`); nil: the labels.
    public let softTargets: [Float]?

    public init(images: Tensor, labels: [Int], softTargets: [Float]? = nil) {
        self.images = images; self.labels = labels; self.softTargets = softTargets
    }

    /// What the loss compares with.
    public var targets: Targets { softTargets.map { .soft($0) } ?? .labels(labels) }

    /// Whether `images` holds one frame per time step.
    public var perStep: Bool { images.shape.count == 5 }

    /// The network input `[T, N, C, H, W]`: static images repeated over
    /// `timeSteps` (direct encoding), frames as they are.
    public func networkInput(timeSteps: Int) -> Tensor {
        guard perStep else { return images.repeatedOverTime(timeSteps) }
        precondition(images.shape[0] == timeSteps, "Batch: \(images.shape[0]) frames per sample for \(timeSteps) time steps")
        return images
    }
}
