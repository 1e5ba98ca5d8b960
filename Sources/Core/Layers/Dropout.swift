/// spikingjelly's `layer.Dropout(p)` for multi-step input `[T, N, …]`: one
/// mask per sample, drawn once per batch and shared by all T time steps,
/// scaling kept values by 1/(1−p); the identity in eval mode.
///
/// The mask bit of a feature is a pure function of (seed, step, layer name,
/// global sample index, feature index), so any sharding of the batch gives
/// the same masks.
public final class Dropout: Layer {
    public var profileKind: Profiler.Kind? { .other }
    public let probability: Float
    public let name: String
    private var mask: [Float]?

    public init(_ builder: ModelBuilder, _ name: String, probability: Float) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability \(probability) outside [0, 1)")
        self.probability = probability
        self.name = builder.name(name)
    }

    public func forward(_ input: Tensor, _ context: StepContext) -> Tensor {
        guard context.training, probability > 0, input.count > 0 else { mask = nil; return input }
        let t = input.shape[0], n = input.shape[1], features = input.count / (t * n)
        let keep = 1 / (1 - probability)
        var m = [Float](repeating: 0, count: n * features)
        for sample in 0..<n {
            let stream = RandomStream(seed: context.seed, name: name, UInt64(context.step),
                                      UInt64(context.layout.globalOffset + sample))
            for f in 0..<features {
                let u = Float(stream.value(at: UInt64(f)) >> 40) * 0x1p-24
                m[sample * features + f] = u < probability ? 0 : keep
            }
        }
        mask = m
        return apply(m, to: input)
    }

    public func backward(_ gradOutput: Tensor, _ context: StepContext) -> Tensor {
        guard let mask else { return gradOutput }
        return apply(mask, to: gradOutput)
    }

    private func apply(_ mask: [Float], to x: Tensor) -> Tensor {
        var y = x
        let perStep = mask.count
        for i in 0..<y.count { y.data[i] *= mask[i % perStep] }
        return y
    }
}
