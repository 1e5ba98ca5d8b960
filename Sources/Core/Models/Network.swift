/// A spiking network run multi-step: all T time steps of a layer at once.
///
/// `forward` maps `[T, N, C, H, W]` inputs to `[T, N, classes]` logits (the
/// original's per-step outputs `o_t`); `backward` takes the logits' gradient
/// and adds every parameter's gradient into `parameters.gradients`.
public protocol Network: AnyObject {
    var parameters: ParameterStore { get }
    var buffers: ParameterStore { get }
    /// Spiking neuron layers by `state_dict` module name, in network order.
    var neurons: [(name: String, layer: SpikingNeuron)] { get }
    /// Convolution and linear layers by `state_dict` module name, in the order they were built.
    var synapses: [(name: String, layer: SynapticLayer)] { get }
    func forward(_ input: Tensor, _ context: StepContext) -> Tensor
    func backward(_ gradLogits: Tensor, _ context: StepContext)
}

/// A network whose layers run in one `Sequential` (residual blocks are
/// layers of their own). Models build their layers with a `ModelBuilder` and
/// hand both here; `checkInput` states what input a model accepts.
public class SequentialNetwork: Network {
    public let parameters: ParameterStore
    public let buffers: ParameterStore
    public let neurons: [(name: String, layer: SpikingNeuron)]
    public let synapses: [(name: String, layer: SynapticLayer)]
    let body: Sequential

    init(_ builder: ModelBuilder, body: Sequential) {
        self.body = body
        parameters = builder.parameters
        buffers = builder.buffers
        neurons = builder.neurons
        synapses = builder.synapses
    }

    /// Stops with a clear message on an input the model cannot take.
    func checkInput(_ input: Tensor) {
        precondition(input.rank == 5, "expected a [T, N, C, H, W] input, got \(input.shape)")
    }

    public func forward(_ input: Tensor, _ context: StepContext) -> Tensor {
        checkInput(input)
        return body.forward(input, context)
    }

    public func backward(_ gradLogits: Tensor, _ context: StepContext) {
        _ = body.backward(gradLogits, context)
    }
}

/// Layers applied in order; backward in reverse.
public final class Sequential: Layer {
    public private(set) var layers: [Layer]

    public init(_ layers: [Layer] = []) { self.layers = layers }

    public func append(_ layer: Layer) { layers.append(layer) }

    public func forward(_ input: Tensor, _ context: StepContext) -> Tensor {
        layers.reduce(input) { x, layer in context.run(layer, x) }
    }

    public func backward(_ gradOutput: Tensor, _ context: StepContext) -> Tensor {
        layers.reversed().reduce(gradOutput) { g, layer in
            guard let kind = layer.profileKind else { return layer.backward(g, context) }
            return Profiler.measure(kind) { layer.backward(g, context) }
        }
    }
}

/// `[T, N, C, H, W] → [T, N, C·H·W]`.
public final class Flatten: Layer {
    private var shape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, _ context: StepContext) -> Tensor {
        shape = input.shape
        return input.reshaped([input.shape[0], input.shape[1], input.shape.dropFirst(2).reduce(1, *)])
    }

    public func backward(_ gradOutput: Tensor, _ context: StepContext) -> Tensor {
        gradOutput.reshaped(shape)
    }
}
