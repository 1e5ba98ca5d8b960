// Legend: T·N images of C channels, H×W input, OH×OW output.

/// Average pooling over windows given per output row and column:
/// `AvgPool2d(k)` (stride k, no padding, floor) and PyTorch's
/// `AdaptiveAvgPool2d(out)`, whose cell i averages input cells
/// ⌊i·in/out⌋ … ⌈(i+1)·in/out⌉ − 1 (which also up-samples inputs smaller
/// than the output).
public final class AveragePool: Layer {
    public var profileKind: Profiler.Kind? { .pooling }
    public enum Kind: Sendable, Equatable {
        case fixed(kernel: Int)
        case adaptive(output: Int)
    }
    public let kind: Kind
    private var inputShape: [Int] = []

    public init(_ kind: Kind) { self.kind = kind }

    /// Input index ranges of each output index along one axis of length `size`.
    public func windows(size: Int) -> [Range<Int>] {
        switch kind {
        case .fixed(let k):
            precondition(size >= k, "AvgPool2d(\(k)): input side \(size) is smaller than the kernel")
            return (0..<(size / k)).map { ($0 * k)..<($0 * k + k) }
        case .adaptive(let out):
            return (0..<out).map { i in (i * size / out)..<(((i + 1) * size + out - 1) / out) }
        }
    }

    public func outputShape(for shape: [Int]) -> [Int] {
        precondition(shape.count == 5, "AveragePool: expected [T, N, C, H, W], got \(shape)")
        return Array(shape[0..<3]) + [windows(size: shape[3]).count, windows(size: shape[4]).count]
    }

    public func forward(_ input: Tensor, _ context: StepContext) -> Tensor {
        inputShape = input.shape
        let rows = windows(size: input.shape[3]), columns = windows(size: input.shape[4])
        let h = input.shape[3], w = input.shape[4], planes = input.shape[0..<3].reduce(1, *)
        let outPlane = rows.count * columns.count
        return Tensor(shape: outputShape(for: input.shape)) { y in
            input.withPointer { x in
                if case .fixed(2) = kind {
                    // The common 2×2 case without window bookkeeping.
                    let oh = rows.count, ow = columns.count
                    for plane in 0..<planes {
                        let src = x + plane * h * w, dst = y + plane * outPlane
                        for i in 0..<oh {
                            let top = src + 2 * i * w, bottom = top + w
                            for j in 0..<ow {
                                dst[i * ow + j] = 0.25 * ((top[2 * j] + top[2 * j + 1]) + (bottom[2 * j] + bottom[2 * j + 1]))
                            }
                        }
                    }
                    return
                }
                for plane in 0..<planes {
                    let src = x + plane * h * w, dst = y + plane * outPlane
                    for (i, r) in rows.enumerated() {
                        for (j, c) in columns.enumerated() {
                            var sum: Float = 0
                            for yy in r { for xx in c { sum += src[yy * w + xx] } }
                            dst[i * columns.count + j] = sum / Float(r.count * c.count)
                        }
                    }
                }
            }
        }
    }

    public func backward(_ gradOutput: Tensor, _ context: StepContext) -> Tensor {
        let rows = windows(size: inputShape[3]), columns = windows(size: inputShape[4])
        let h = inputShape[3], w = inputShape[4], planes = inputShape[0..<3].reduce(1, *)
        var gradInput = Tensor(zeros: inputShape)
        gradOutput.withPointer { dy in
            gradInput.withMutablePointer { dx in
                for plane in 0..<planes {
                    let dst = dx + plane * h * w, src = dy + plane * rows.count * columns.count
                    for (i, r) in rows.enumerated() {
                        for (j, c) in columns.enumerated() {
                            let share = src[i * columns.count + j] / Float(r.count * c.count)
                            for yy in r { for xx in c { dst[yy * w + xx] += share } }
                        }
                    }
                }
            }
        }
        return gradInput
    }
}
