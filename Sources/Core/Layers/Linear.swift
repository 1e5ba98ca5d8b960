// Legend: T time steps, N samples, I input features, O outputs; rows of the
// input are (t, n) pairs, t-major; c samples per reduction chunk.

/// A fully connected layer over all time steps, `[T, N, I] → [T, N, O]`,
/// one GEMM per reduction chunk on the chunk's T·c gathered rows. Under
/// `-amp` the operands and results are rounded to bf16 as `Precision` describes.
public final class Linear: Layer {
    public var profileKind: Profiler.Kind? { .linear }
    public let inFeatures: Int, outFeatures: Int
    public let weight: StoreEntry, bias: StoreEntry
    private let store: ParameterStore
    private var savedInput: Tensor?

    public init(_ builder: ModelBuilder, _ name: String, inFeatures: Int, outFeatures: Int,
                weightInit: Initializer = .defaultWeight, biasInit: Initializer? = nil) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        store = builder.parameters
        (weight, bias) = builder.scope(name) {
            (builder.parameter("weight", shape: [outFeatures, inFeatures], initializer: weightInit),
             builder.parameter("bias", shape: [outFeatures], initializer: biasInit ?? .defaultBias(fanIn: inFeatures)))
        }
        builder.synapse(name, self)
    }

    /// Runs `body` with the weight the products use: the stored fp32 weight,
    /// or under -amp its bf16-rounded copy.
    private func withProductWeight<R>(_ precision: Precision, _ body: (UnsafePointer<Float>) -> R) -> R {
        store.values.withUnsafeBufferPointer { precision.withOperand($0.baseAddress! + weight.offset, count: weight.count, body) }
    }

    private func rows(of chunk: Range<Int>, timeSteps: Int, batch: Int) -> [Int] {
        (0..<timeSteps).flatMap { t in chunk.map { t * batch + $0 } }
    }

    private func check(_ shape: [Int]) -> (t: Int, n: Int) {
        precondition(shape.count == 3 && shape[2] == inFeatures, "Linear: expected [T, N, \(inFeatures)], got \(shape)")
        return (shape[0], shape[1])
    }

    public func forward(_ original: Tensor, _ context: StepContext) -> Tensor {
        let input = context.precision.operand(original)
        let (t, n) = check(input.shape)
        var output = Tensor(zeros: [t, n, outFeatures])
        Profiler.count(multiplyAdds: t * n * outFeatures * inFeatures)
        var b = Array(store.values[bias.range])
        b.withUnsafeMutableBufferPointer { context.precision.round($0.baseAddress!, count: $0.count) }
        input.withPointer { x in
            output.withMutablePointer { y in
                withProductWeight(context.precision) { w in
                    Parallel.forEach(context.chunks.count) { k in
                        let chunkRows = rows(of: context.chunks[k], timeSteps: t, batch: n)
                        let gathered = ScratchBuffer(count: chunkRows.count * inFeatures)
                        let product = ScratchBuffer(count: chunkRows.count * outFeatures)
                        for (j, row) in chunkRows.enumerated() {
                            (gathered.pointer + j * inFeatures).update(from: x + row * inFeatures, count: inFeatures)
                        }
                        // Y[R, O] = X[R, I] · W[O, I]ᵀ
                        Gemm.sgemm(transB: true, m: chunkRows.count, n: outFeatures, k: inFeatures,
                                   a: gathered.pointer, lda: inFeatures,
                                   b: w, ldb: inFeatures,
                                   c: product.pointer, ldc: outFeatures)
                        for (j, row) in chunkRows.enumerated() {
                            for o in 0..<outFeatures { y[row * outFeatures + o] = product.pointer[j * outFeatures + o] + b[o] }
                            context.precision.round(y + row * outFeatures, count: outFeatures)
                        }
                    }
                }
            }
        }
        if context.training { savedInput = input }
        return output
    }

    public func backward(_ incomingGradient: Tensor, _ context: StepContext) -> Tensor {
        let gradOutput = context.precision.operand(incomingGradient)
        guard let input = savedInput else { preconditionFailure("Linear.backward without a training forward") }
        savedInput = nil
        let (t, n) = check(input.shape)
        let partialCount = weight.count + outFeatures
        let partials = ScratchBuffer(count: context.layout.chunkCount * partialCount)
        var gradInput = Tensor(zeros: input.shape)
        input.withPointer { x in
            gradOutput.withPointer { dy in
                gradInput.withMutablePointer { dx in
                    withProductWeight(context.precision) { w in
                        Parallel.forEach(context.chunks.count) { k in
                            let chunkRows = rows(of: context.chunks[k], timeSteps: t, batch: n), r = chunkRows.count
                            let gatheredX = ScratchBuffer(count: r * inFeatures)
                            let gatheredDy = ScratchBuffer(count: r * outFeatures)
                            let gradRows = ScratchBuffer(count: r * inFeatures)
                            for (j, row) in chunkRows.enumerated() {
                                (gatheredX.pointer + j * inFeatures).update(from: x + row * inFeatures, count: inFeatures)
                                (gatheredDy.pointer + j * outFeatures).update(from: dy + row * outFeatures, count: outFeatures)
                            }
                            let partial = partials.pointer + k * partialCount
                            // dW[O, I] = dY[R, O]ᵀ · X[R, I]
                            Gemm.sgemm(transA: true, m: outFeatures, n: inFeatures, k: r,
                                       a: gatheredDy.pointer, lda: outFeatures, b: gatheredX.pointer, ldb: inFeatures,
                                       c: partial, ldc: inFeatures)
                            for o in 0..<outFeatures {
                                var sum: Float = 0
                                for j in 0..<r { sum += gatheredDy.pointer[j * outFeatures + o] }
                                partial[weight.count + o] = sum
                            }
                            context.precision.round(partial, count: partialCount)
                            // dX[R, I] = dY[R, O] · W[O, I]
                            Gemm.sgemm(m: r, n: inFeatures, k: outFeatures,
                                       a: gatheredDy.pointer, lda: outFeatures,
                                       b: w, ldb: inFeatures,
                                       c: gradRows.pointer, ldc: inFeatures)
                            context.precision.round(gradRows.pointer, count: r * inFeatures)
                            for (j, row) in chunkRows.enumerated() {
                                (dx + row * inFeatures).update(from: gradRows.pointer + j * inFeatures, count: inFeatures)
                            }
                        }
                    }
                }
            }
        }
        context.reducer.sumDeferred(partials, chunks: context.layout.chunkCount, count: partialCount) { [store, weight, bias] totals in
            totals.withUnsafeBufferPointer { sums in
                store.accumulateGradient(weight, sums.baseAddress!)
                store.accumulateGradient(bias, sums.baseAddress! + weight.count)
            }
        }
        return gradInput
    }
}
