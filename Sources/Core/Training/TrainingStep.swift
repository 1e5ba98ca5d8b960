/// One optimiser step of the recipe: forward over all T steps, the loss of
/// the global batch, full BPTT backward, then the optimiser update.
public struct StepResult: Sendable {
    public let loss: Float
    /// `[T, N, classes]` logits of the local samples.
    public let logits: Tensor
}

public enum TrainingStep {
    /// Forward and loss without updating anything (evaluation).
    public static func evaluate(_ network: Network, input: Tensor, targets: Targets, loss: LossConfig,
                                context: StepContext) -> StepResult {
        let logits = network.forward(input, context)
        return StepResult(loss: Loss.evaluate(logits: logits, targets: targets, config: loss, context: context).loss,
                          logits: logits)
    }

    /// Forward, loss, backward; leaves the gradients in `network.parameters.gradients`.
    public static func gradients(_ network: Network, input: Tensor, targets: Targets, loss: LossConfig,
                                 context: StepContext) -> StepResult {
        precondition(context.training, "TrainingStep.gradients needs a training context")
        network.parameters.zeroGradients()
        let logits = network.forward(input, context)
        let (value, gradient) = Profiler.measure(.loss) {
            Loss.evaluate(logits: logits, targets: targets, config: loss, context: context)
        }
        network.backward(gradient, context)
        Profiler.measure(.communication) { context.reducer.finishPending() }
        return StepResult(loss: value, logits: logits)
    }

    /// A whole training step.
    public static func train(_ network: Network, optimizer: Optimizer, input: Tensor, targets: Targets,
                             loss: LossConfig, context: StepContext) -> StepResult {
        let result = gradients(network, input: input, targets: targets, loss: loss, context: context)
        let store = network.parameters
        optimizer.step(parameters: &store.values, gradients: store.gradients)
        return result
    }
}
