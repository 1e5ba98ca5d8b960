/// What one training or evaluation step shares with every layer.
public final class StepContext {
    /// How the local samples group into reduction chunks.
    public let layout: BatchLayout
    /// Adds per-chunk partial sums over the global batch.
    public let reducer: BatchReducer
    /// Training mode: batch statistics, dropout, saved activations for backward.
    public let training: Bool
    public let timeSteps: Int
    /// Seed and step number of the run: dropout masks are a pure function of
    /// (seed, step, layer, global sample index, feature).
    public let seed: UInt64
    public let step: Int
    /// The network input is the same at every time step (direct encoding of
    /// static images), so the input layer computes it once.
    public let staticInput: Bool
    /// BatchNorm normalises with each process's own batch statistics
    /// (`--bn local`, like DDP without SyncBatchNorm) instead of the global batch's.
    public let localBatchNorm: Bool
    /// Sees every layer's input and output (`run(_:_:)`); nil: nothing watches.
    public let observer: LayerObserver?
    /// fp32, or bf16 operands and results at convolutions and linear layers (`-amp`).
    public let precision: Precision

    public init(layout: BatchLayout, reducer: BatchReducer, training: Bool, timeSteps: Int,
                seed: UInt64 = 2022, step: Int = 0, staticInput: Bool = false, localBatchNorm: Bool = false,
                observer: LayerObserver? = nil, precision: Precision = .fp32) {
        precondition(timeSteps > 0, "StepContext: timeSteps \(timeSteps)")
        self.layout = layout
        self.reducer = reducer
        self.training = training
        self.timeSteps = timeSteps
        self.seed = seed
        self.step = step
        self.staticInput = staticInput
        self.localBatchNorm = localBatchNorm
        self.observer = observer
        self.precision = precision
    }

    public var localBatch: Int { layout.localBatch }
    public var chunks: [Range<Int>] { layout.chunks }

    /// Sums `partials` (`[chunkCount, count]`) over the global batch.
    public func reduce(_ partials: [Float], count: Int) -> [Float] {
        reducer.sum(partials, chunks: layout.chunkCount, count: count)
    }
}

/// A layer of the multi-step network: it sees all T time steps of its input
/// at once, `[T, N, …]`, and keeps what its backward needs from the last
/// training forward. Backward returns the input gradient and adds parameter
/// gradients into its store (zeroed once per step by the trainer).
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, _ context: StepContext) -> Tensor
    func backward(_ gradOutput: Tensor, _ context: StepContext) -> Tensor
    /// What `Profiler` books this layer's time under; nil for containers,
    /// whose inner layers are timed themselves.
    var profileKind: Profiler.Kind? { get }
}

extension Layer {
    public var profileKind: Profiler.Kind? { nil }
}
