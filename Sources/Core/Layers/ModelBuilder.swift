/// Registers the parameters and buffers of a network under PyTorch
/// `state_dict` names while its layers are built.
public final class ModelBuilder {
    public let parameters = ParameterStore()
    public let buffers = ParameterStore()
    public let seed: UInt64
    /// Spiking neuron layers in network order, for firing-rate reports.
    public private(set) var neurons: [(name: String, layer: SpikingNeuron)] = []
    /// Convolution and linear layers in the order they were built, for the energy estimate.
    public private(set) var synapses: [(name: String, layer: SynapticLayer)] = []
    private var path: [String] = []

    public init(seed: UInt64) {
        self.seed = seed
    }

    /// The full dotted name of `local` in the current scope.
    public func name(_ local: String) -> String {
        (path + [local]).joined(separator: ".")
    }

    /// The dotted name of the current scope itself.
    public var scopeName: String { path.joined(separator: ".") }

    /// Builds `body` inside the sub-module `component` (`layer1`, `0`, `bn1`, …).
    public func scope<R>(_ component: String, _ body: () throws -> R) rethrows -> R {
        path.append(component)
        defer { path.removeLast() }
        return try body()
    }

    public func parameter(_ local: String, shape: [Int], initializer: Initializer) -> StoreEntry {
        let full = name(local)
        return parameters.register(full, shape: shape,
                                   initial: initializer.values(shape: shape, seed: seed, name: full))
    }

    /// The activation layer `name`: a spiking neuron (registered for
    /// firing-rate reports, with PLIF's `w` under `name.w`) or ReLU.
    public func activation(_ name: String, _ activation: Activation) -> Layer {
        switch activation {
        case .relu:
            return ReLU()
        case .spiking(let config):
            let neuron = SpikingNeuron(self, name, config: config)
            neurons.append((self.name(name), neuron))
            return neuron
        }
    }

    /// Registers the convolution or linear layer `layer` under its module name `name`.
    public func synapse(_ name: String, _ layer: SynapticLayer) {
        synapses.append((self.name(name), layer))
    }

    public func buffer(_ local: String, shape: [Int], value: Float, type: StoredType = .float32) -> StoreEntry {
        buffers.register(name(local), shape: shape,
                         initial: [Float](repeating: value, count: shape.reduce(1, *)), type: type)
    }
}
