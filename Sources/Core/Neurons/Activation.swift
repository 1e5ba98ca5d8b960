/// The activation of a network: a spiking neuron, or ReLU for the ANN
/// baseline (flag `-neuron_model relu`, which forces T = 1).
public enum Activation: Sendable, Equatable {
    case spiking(NeuronConfig)
    case relu

    /// The activation `kind` names, with these constants for a spiking neuron.
    public init(_ kind: ActivationKind, surrogate: Surrogate = .rectangle, tau: Float = 2, vReset: Float? = nil) {
        guard let model = kind.neuronModel else { self = .relu; return }
        self = .spiking(NeuronConfig(model: model, surrogate: surrogate, tau: tau, vReset: vReset))
    }

    /// Parses the original's `-neuron_model` names in any letter case: LIF, CLIF, PLIF, relu.
    public init?(name: String, surrogate: Surrogate = .rectangle, tau: Float = 2, vReset: Float? = nil) {
        guard let kind = ActivationKind(caseInsensitive: name) else { return nil }
        self.init(kind, surrogate: surrogate, tau: tau, vReset: vReset)
    }
}

/// The original's `-neuron_model` names: a spiking neuron, or relu for the ANN baseline.
public enum ActivationKind: String, CaseIterable, Sendable {
    case lif = "LIF"
    case clif = "CLIF"
    case plif = "PLIF"
    case relu

    /// The spiking neuron, nil for relu.
    public var neuronModel: NeuronModel? {
        switch self {
        case .lif: return .lif
        case .clif: return .clif
        case .plif: return .plif
        case .relu: return nil
        }
    }
}
