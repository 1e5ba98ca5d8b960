import Foundation

// Legend: T time steps, N samples, C channels, P = H·W pixels,
// M = N_global·P values behind each (t, c) statistic.

/// BatchNorm2d as the original runs it, once per time step: in training each
/// time step is normalised with its own batch statistics over (N, H, W), and
/// the running statistics are updated once per time step in order t = 0…T−1
/// (momentum 0.1, unbiased variance for the running estimate, eps 1e-5).
/// The statistics cover the global batch: partial sums per reduction chunk go
/// through the step's `BatchReducer`.
public final class BatchNorm2d: Layer {
    public var profileKind: Profiler.Kind? { .batchNorm }
    public let channels: Int
    public let momentum: Float = 0.1
    public let epsilon: Float = 1e-5
    public let weight: StoreEntry, bias: StoreEntry
    public let runningMean: StoreEntry, runningVar: StoreEntry, batchesTracked: StoreEntry
    private let parameters: ParameterStore, buffers: ParameterStore
    private var saved: (input: Tensor, mean: [Float], invStd: [Float])?

    public init(_ builder: ModelBuilder, _ name: String, channels: Int) {
        self.channels = channels
        parameters = builder.parameters
        buffers = builder.buffers
        (weight, bias, runningMean, runningVar, batchesTracked) = builder.scope(name) {
            (builder.parameter("weight", shape: [channels], initializer: .constant(1)),
             builder.parameter("bias", shape: [channels], initializer: .constant(0)),
             builder.buffer("running_mean", shape: [channels], value: 0),
             builder.buffer("running_var", shape: [channels], value: 1),
             builder.buffer("num_batches_tracked", shape: [], value: 0, type: .int64))
        }
    }

    private func dimensions(_ shape: [Int]) -> (t: Int, n: Int, p: Int) {
        precondition(shape.count >= 3 && shape[2] == channels,
                     "BatchNorm2d: expected [T, N, \(channels), …], got \(shape)")
        return (shape[0], shape[1], shape.dropFirst(3).reduce(1, *))
    }

    /// Calls `body(s, c, offset)` for every row of P pixels of `[T, N, C, P]`:
    /// s = t·C + c its statistic, c its channel, offset its first value. Each
    /// chunk's samples on one worker, so the rows' elementwise work is spread
    /// over the workers.
    private func forEachRow(t: Int, n: Int, p: Int, _ context: StepContext, _ body: (Int, Int, Int) -> Void) {
        Parallel.forEach(context.chunks.count) { k in
            for step in 0..<t {
                for sample in context.chunks[k] {
                    for c in 0..<channels { body(step * channels + c, c, ((step * n + sample) * channels + c) * p) }
                }
            }
        }
    }

    /// Per-chunk partial sums over each chunk's samples and pixels, `[chunks, T·C]`:
    /// of `x` when `mean` is nil, else of `(x − mean[t, c])²`. Each row of P
    /// pixels is summed in fp32 (vectorised), rows are added in Double.
    private func chunkSums(_ x: UnsafePointer<Float>, shape: [Int], context: StepContext,
                           centredOn mean: [Float]? = nil) -> [Float] {
        let (t, n, p) = dimensions(shape)
        var partials = [Float](repeating: 0, count: context.layout.chunkCount * t * channels)
        partials.withUnsafeMutableBufferPointer { partials in
            Parallel.forEach(context.chunks.count) { k in
                for step in 0..<t {
                    for c in 0..<channels {
                        let statistic = step * channels + c
                        var sum: Double = 0
                        for sample in context.chunks[k] {
                            let row = x + ((step * n + sample) * channels + c) * p
                            let rowSum = mean.map { RowSums.squaredDeviations(row, count: p, from: $0[statistic]) }
                                ?? RowSums.sum(row, count: p)
                            sum += Double(rowSum)
                        }
                        partials[k * t * channels + statistic] = Float(sum)
                    }
                }
            }
        }
        return partials
    }

    public func forward(_ input: Tensor, _ context: StepContext) -> Tensor {
        context.training ? trainingForward(input, context) : evaluationForward(input)
    }

    /// Sums statistics partials over the batch the statistics cover: the
    /// global batch, or this process's samples with `--bn local`.
    private func statisticsSum(_ partials: [Float], count: Int, _ context: StepContext) -> [Float] {
        context.localBatchNorm
            ? LocalReducer().sum(partials, chunks: context.layout.chunkCount, count: count)
            : context.reduce(partials, count: count)
    }

    /// Values behind each (t, c) statistic.
    private func statisticsCount(pixels p: Int, _ context: StepContext) -> Float {
        Float((context.localBatchNorm ? context.localBatch : context.layout.globalBatch) * p)
    }

    private func trainingForward(_ input: Tensor, _ context: StepContext) -> Tensor {
        let (t, n, p) = dimensions(input.shape)
        let m = statisticsCount(pixels: p, context)
        var mean = [Float](), invStd = [Float]()
        let output = input.withPointer { x in
            mean = statisticsSum(chunkSums(x, shape: input.shape, context: context), count: t * channels, context)
                .map { $0 / m }
            // Two passes: the variance from centred values, not E[x²] − E[x]².
            let variance = statisticsSum(chunkSums(x, shape: input.shape, context: context, centredOn: mean),
                                         count: t * channels, context).map { $0 / m }
            invStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
            updateRunningStatistics(mean: mean, variance: variance, count: m, timeSteps: t)
            let gamma = Array(parameters.values[weight.range]), beta = Array(parameters.values[bias.range])
            // forEachRow visits every (t, n, c) row: no zeroing first.
            return Tensor(shape: input.shape) { y in
                forEachRow(t: t, n: n, p: p, context) { s, c, offset in
                    let scale = invStd[s] * gamma[c], shift = beta[c] - mean[s] * scale
                    for i in 0..<p { y[offset + i] = x[offset + i] * scale + shift }
                }
            }
        }
        saved = (input, mean, invStd)
        return output
    }

    private func updateRunningStatistics(mean: [Float], variance: [Float], count m: Float, timeSteps t: Int) {
        let unbiased = m > 1 ? m / (m - 1) : 1
        for step in 0..<t {
            for c in 0..<channels {
                let s = step * channels + c
                let rm = runningMean.offset + c, rv = runningVar.offset + c
                buffers.values[rm] = (1 - momentum) * buffers.values[rm] + momentum * mean[s]
                buffers.values[rv] = (1 - momentum) * buffers.values[rv] + momentum * variance[s] * unbiased
            }
            buffers.values[batchesTracked.offset] += 1
        }
    }

    /// Eval mode: the running statistics, the same for every time step.
    private func evaluationForward(_ input: Tensor) -> Tensor {
        let (t, n, p) = dimensions(input.shape)
        let (scale, shift) = evaluationAffine()
        let output = input.withPointer { x in
            Tensor(shape: input.shape) { y in
                for image in 0..<(t * n) {
                    for c in 0..<channels {
                        let offset = (image * channels + c) * p
                        for i in 0..<p { y[offset + i] = x[offset + i] * scale[c] + shift[c] }
                    }
                }
            }
        }
        saved = (input, [], [])
        return output
    }

    /// Eval mode as one affine map per channel: `y = x·scale[c] + shift[c]` (NIR export folds it).
    func evaluationAffine() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            let invStd = 1 / (buffers.values[runningVar.offset + c] + epsilon).squareRoot()
            scale[c] = parameters.values[weight.offset + c] * invStd
            shift[c] = parameters.values[bias.offset + c] - buffers.values[runningMean.offset + c] * scale[c]
        }
        return (scale, shift)
    }

    public func backward(_ gradOutput: Tensor, _ context: StepContext) -> Tensor {
        guard let saved else { preconditionFailure("BatchNorm2d.backward without a forward") }
        self.saved = nil
        let (t, n, p) = dimensions(saved.input.shape)
        let training = !saved.mean.isEmpty
        let (mean, invStd) = training ? (saved.mean, saved.invStd) : runningStatistics(timeSteps: t)
        let (sumDy, sumDyXhat) = gradientSums(gradOutput, saved.input, mean: mean, invStd: invStd, context)
        accumulateAffineGradients(sumDy: sumDy, sumDyXhat: sumDyXhat, timeSteps: t, context)

        let m = statisticsCount(pixels: p, context)
        let gamma = Array(parameters.values[weight.range])
        return saved.input.withPointer { x in
            gradOutput.withPointer { dy in
                Tensor(shape: saved.input.shape) { dx in   // every row written: no zeroing first
                    forEachRow(t: t, n: n, p: p, context) { s, c, offset in
                        let scale = gamma[c] * invStd[s]
                        if training {
                            let meanDy = sumDy[s] / m, meanDyXhat = sumDyXhat[s] / m
                            for i in 0..<p {
                                let xhat = (x[offset + i] - mean[s]) * invStd[s]
                                dx[offset + i] = scale * (dy[offset + i] - meanDy - xhat * meanDyXhat)
                            }
                        } else {
                            for i in 0..<p { dx[offset + i] = scale * dy[offset + i] }
                        }
                    }
                }
            }
        }
    }

    /// Eval mode's mean and 1/σ per (t, c): the running statistics, the same at every step.
    private func runningStatistics(timeSteps t: Int) -> (mean: [Float], invStd: [Float]) {
        let rm = Array(buffers.values[runningMean.range]), rv = Array(buffers.values[runningVar.range])
        return ((0..<(t * channels)).map { rm[$0 % channels] },
                (0..<(t * channels)).map { 1 / (rv[$0 % channels] + epsilon).squareRoot() })
    }

    /// Σ dy and Σ dy·x̂ per (t, c) over the global batch: per chunk (rows in
    /// fp32, vectorised; across rows in Double), then the exact sum of the chunks.
    /// x, dy: [T, N, C, H·W]; mean, invStd: [T·C].
    private func gradientSums(_ gradOutput: Tensor, _ input: Tensor, mean: [Float], invStd: [Float],
                              _ context: StepContext) -> (sumDy: [Float], sumDyXhat: [Float]) {
        let (t, n, p) = dimensions(input.shape)
        let statistics = t * channels
        let partials = ScratchBuffer(count: context.layout.chunkCount * 2 * statistics)
        input.withPointer { x in
            gradOutput.withPointer { dy in
                Parallel.forEach(context.chunks.count) { k in
                    for step in 0..<t {
                        for c in 0..<channels {
                            let s = step * channels + c
                            var sumDy: Double = 0, sumDyXhat: Double = 0
                            let mu = mean[s], inv = invStd[s]
                            for sample in context.chunks[k] {
                                let offset = ((step * n + sample) * channels + c) * p
                                sumDy += Double(RowSums.sum(dy + offset, count: p))
                                sumDyXhat += Double(RowSums.dot(dy + offset, x + offset, count: p, shift: mu)) * Double(inv)
                            }
                            partials.pointer[k * 2 * statistics + s] = Float(sumDy)
                            partials.pointer[k * 2 * statistics + statistics + s] = Float(sumDyXhat)
                        }
                    }
                }
            }
        }
        let sums = statisticsSum(partials.array, count: 2 * statistics, context)
        return (Array(sums[0..<statistics]), Array(sums[statistics...]))
    }

    /// γ's and β's gradients: Σ dy·x̂ and Σ dy over the time steps. With
    /// per-process statistics (`--bn local`) they still add up over every process.
    private func accumulateAffineGradients(sumDy: [Float], sumDyXhat: [Float], timeSteps t: Int, _ context: StepContext) {
        var gradGamma = [Float](repeating: 0, count: channels), gradBeta = gradGamma
        for step in 0..<t {
            for c in 0..<channels {
                gradGamma[c] += sumDyXhat[step * channels + c]
                gradBeta[c] += sumDy[step * channels + c]
            }
        }
        if context.localBatchNorm {
            context.reducer.sumDeferred(gradGamma + gradBeta, chunks: 1, count: 2 * channels) { [parameters, weight, bias, channels] totals in
                totals.withUnsafeBufferPointer { buffer in
                    guard let base = buffer.baseAddress else { return }
                    parameters.accumulateGradient(weight, base)
                    parameters.accumulateGradient(bias, base + channels)
                }
            }
        } else {
            gradGamma.withUnsafeBufferPointer { buffer in buffer.baseAddress.map { parameters.accumulateGradient(weight, $0) } }
            gradBeta.withUnsafeBufferPointer { buffer in buffer.baseAddress.map { parameters.accumulateGradient(bias, $0) } }
        }
    }
}
