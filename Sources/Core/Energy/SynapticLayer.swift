/// A layer whose weights connect inputs to outputs (convolution, linear):
/// what the energy model needs to know of it, told by the layer itself so
/// that the measuring side never asks for a concrete type.
public protocol SynapticLayer: Layer {
    /// The layer reads the network's (analog) input, not spikes.
    var readsNetworkInput: Bool { get }
    /// Weights and biases.
    var parameterCount: Int { get }
    /// Its geometry for the per-sample `input` and `output` shapes (without
    /// T and N), or nil when the shapes do not fit the layer.
    func synapticShape(input: [Int], output: [Int]) -> EnergyModel.Shape?
}

extension Conv2d: SynapticLayer {
    public var readsNetworkInput: Bool { isInputLayer }
    public var parameterCount: Int { weight.count + (bias?.count ?? 0) }

    public func synapticShape(input: [Int], output: [Int]) -> EnergyModel.Shape? {
        guard input.count == 3, output.count == 3 else { return nil }
        return .convolution(inChannels: inChannels, inHeight: input[1], inWidth: input[2],
                            outChannels: outChannels, outHeight: output[1], outWidth: output[2],
                            kernelHeight: kernel, kernelWidth: kernel)
    }
}

extension Linear: SynapticLayer {
    public var readsNetworkInput: Bool { false }
    public var parameterCount: Int { weight.count + bias.count }

    public func synapticShape(input: [Int], output: [Int]) -> EnergyModel.Shape? {
        .linear(inFeatures: inFeatures, outFeatures: outFeatures)
    }
}
