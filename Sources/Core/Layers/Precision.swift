/// The arithmetic of the convolution and linear layers (`-amp`).
///
/// `.bf16Autocast` repeats what PyTorch's `torch.autocast("cpu", dtype=torch.bfloat16)`
/// computes for `conv2d` and `linear` (its lower-precision op list): the
/// operands are bf16 tensors, every product is exact and is accumulated in
/// fp32, and the results are bf16 tensors. On fp32 units this means rounding
/// (`BFloat16.round`, nearest-even) at each layer's boundary:
///
/// - forward: the input, the weight and the bias before the product; the
///   output (product + bias, summed in fp32) after it;
/// - backward: the output gradient before the products; the input gradient
///   after them; the weight and bias gradients of each reduction chunk
///   (PyTorch rounds them per call, clif-mpi per chunk partial: every partial
///   is one fp32 product over the chunk's samples and time steps, rounded once,
///   and the partials are summed exactly — so the result does not depend on
///   the rank or thread count).
///
/// The master weights, the optimiser, the gradients that reach it, and
/// everything outside convolutions and linear layers (BatchNorm, neurons,
/// pooling, residual additions, the loss) stay fp32. That is a deliberate
/// difference from plain CPU autocast, where `batch_norm` is on no list, so a
/// bf16 convolution output keeps BatchNorm's output, and with it the membrane
/// potentials of the neurons, in bf16 (2⁻⁷ resolution just under the
/// threshold 1.0).
public enum Precision: String, Sendable, CaseIterable {
    case fp32
    case bf16Autocast = "bf16"

    /// Whether conv / linear operands and results are rounded to bf16.
    @inlinable public var roundsToBFloat16: Bool { self == .bf16Autocast }

    /// Rounds `x[0..<count]` in place under `.bf16Autocast`; nothing under `.fp32`.
    @inlinable
    public func round(_ x: UnsafeMutablePointer<Float>, count: Int) {
        if roundsToBFloat16 { BFloat16.round(x, count: count) }
    }

    /// Runs `body` with `values[0..<count]` themselves, or with a bf16-rounded
    /// copy under `.bf16Autocast` (weights: the fp32 master copy is never rounded).
    public func withOperand<R>(_ values: UnsafePointer<Float>, count: Int, _ body: (UnsafePointer<Float>) -> R) -> R {
        guard roundsToBFloat16 else { return body(values) }
        return BFloat16.rounded(values, count: count).withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// `tensor` itself, or its bf16-rounded copy.
    public func operand(_ tensor: Tensor) -> Tensor {
        roundsToBFloat16 ? BFloat16.rounded(tensor) : tensor
    }
}
