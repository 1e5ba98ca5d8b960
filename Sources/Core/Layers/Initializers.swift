import Foundation

/// PyTorch's weight initialisations, drawn from a `RandomStream` named by the
/// run's seed and the parameter's `state_dict` name (so the same seed gives
/// the same model whatever else changes). The distributions are PyTorch's;
/// the draws are not PyTorch's generator.
public enum Initializer {
    /// Kaiming-normal, `mode='fan_out'`, ReLU gain: N(0, 2 / fan_out),
    /// fan_out = out_channels · receptive field.
    case kaimingNormalFanOut
    /// PyTorch's default for Conv/Linear weights: Kaiming-uniform with
    /// a = √5, i.e. U(±1/√fan_in).
    case defaultWeight
    /// PyTorch's default for Conv/Linear biases: U(±1/√fan_in).
    case defaultBias(fanIn: Int)
    case normal(std: Float)
    case constant(Float)

    /// Values for a tensor of `shape` (`[out, in, kh, kw]` or `[out, in]` for weights).
    public func values(shape: [Int], seed: UInt64, name: String) -> [Float] {
        let count = shape.reduce(1, *)
        var stream = RandomStream(seed: seed, name: name)
        let receptive = shape.dropFirst(2).reduce(1, *)
        switch self {
        case .kaimingNormalFanOut:
            let std = (2 / Float(shape[0] * receptive)).squareRoot()
            return (0..<count).map { _ in std * stream.normal() }
        case .defaultWeight:
            let bound = 1 / Float(shape[1] * receptive).squareRoot()
            return (0..<count).map { _ in stream.uniform(-bound, bound) }
        case .defaultBias(let fanIn):
            let bound = 1 / Float(fanIn).squareRoot()
            return (0..<count).map { _ in stream.uniform(-bound, bound) }
        case .normal(let std):
            return (0..<count).map { _ in std * stream.normal() }
        case .constant(let value):
            return [Float](repeating: value, count: count)
        }
    }
}
