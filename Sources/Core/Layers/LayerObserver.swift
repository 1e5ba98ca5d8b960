/// Watches a network run: after every layer's forward it sees the layer, its
/// input and its output. Layers do not know it exists — the network calls it
/// (`StepContext.run`) — so measuring (firing rates for the energy estimate or
/// TensorBoard, membrane histograms) never changes what is computed.
///
/// `observe` runs on the thread that drives the network, between two layers;
/// it may use `Parallel` itself. It must not modify the layer.
public protocol LayerObserver: AnyObject {
    func observe(_ layer: Layer, input: Tensor, output: Tensor, _ context: StepContext)
}

extension StepContext {
    /// `layer.forward(input)`, its time booked under the layer's profile
    /// kind, then shown to `observer`. Containers run their layers through
    /// this, so every layer of a network is timed and observed.
    public func run(_ layer: Layer, _ input: Tensor) -> Tensor {
        let output: Tensor
        if let kind = layer.profileKind {
            output = Profiler.measure(kind) { layer.forward(input, self) }
        } else {
            output = layer.forward(input, self)
        }
        observer?.observe(layer, input: input, output: output, self)
        return output
    }
}
