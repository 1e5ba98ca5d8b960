import XCTest
@testable import Core

/// Fast kernels against plain reference loops on awkward sizes.
final class KernelReferenceTests: XCTestCase {
    func testConvolutionMatchesDirectLoops() {
        let cases: [(c: Int, o: Int, size: Int, k: Int, s: Int, p: Int)] = [
            (1, 1, 1, 1, 1, 0), (7, 9, 8, 3, 1, 1), (8, 7, 9, 3, 2, 1), (9, 8, 7, 1, 2, 0), (3, 5, 1, 3, 1, 1), (2, 3, 33, 3, 2, 1),
        ]
        for (c, o, size, k, s, p) in cases {
            let builder = ModelBuilder(seed: 3)
            let conv = Conv2d(builder, "c", inChannels: c, outChannels: o, kernel: k, stride: s, padding: p)
            let x = randomTensor([2, 3, c, size, size], seed: 4)
            for chunkSize in [1, 2, 3] {
                let y = conv.forward(x, context(batch: 3, chunkSize: chunkSize, timeSteps: 2, training: false))
                let reference = directConvolution(x, weight: builder.parameters.tensor(conv.weight),
                                                     bias: Array(builder.parameters.values[conv.bias!.range]),
                                                     stride: s, padding: p)
                assertClose(y, reference, tolerance: 1e-5, "conv reference: c\(c) o\(o) \(size)² k\(k) s\(s) p\(p) chunk \(chunkSize)")
            }
        }
    }

    /// The chunking of the batch must not change a single bit of any result.
    func testChunkingIsInvisibleInForward() {
        let builder = ModelBuilder(seed: 3)
        let conv = Conv2d(builder, "c", inChannels: 3, outChannels: 4, kernel: 3, padding: 1)
        let x = randomTensor([2, 4, 3, 5, 5], seed: 9)
        // Chunk size 2 over a batch of 4 vs the same chunks held as two "ranks".
        let whole = conv.forward(x, context(batch: 4, chunkSize: 2, timeSteps: 2, training: false))
        for rank in 0..<2 {
            let samples = (rank * 2)..<(rank * 2 + 2)
            let layout = BatchLayout(chunks: [0..<2], globalBatch: 4, globalOffset: rank * 2)
            let part = conv.forward(x.samples(samples),
                                    StepContext(layout: layout, reducer: LocalReducer(), training: false, timeSteps: 2))
            XCTAssertEqual(part, whole.samples(samples), "rank \(rank)")
        }
    }

    func testDropoutSharesOneMaskOverTime() {
        let builder = ModelBuilder(seed: 1)
        let dropout = Dropout(builder, "drop", probability: 0.3)
        let x = Tensor(repeating: 1, shape: [4, 64, 50])
        let ctx = StepContext(layout: .whole(batch: 64, chunkSize: 8), reducer: LocalReducer(), training: true,
                              timeSteps: 4, seed: 7, step: 3)
        let y = dropout.forward(x, ctx)
        let perStep = 64 * 50
        for t in 1..<4 { XCTAssertEqual(Array(y.data[(t * perStep)..<((t + 1) * perStep)]), Array(y.data[0..<perStep])) }
        let kept = y.data[0..<perStep].filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / Double(perStep), 0.7, accuracy: 0.03)
        // Backward applies the same mask; eval is the identity.
        XCTAssertEqual(dropout.backward(x, ctx).data, y.data)
        XCTAssertEqual(dropout.forward(x, context(batch: 64, timeSteps: 4, training: false)).data, x.data)
        // A sample's mask depends on its global index, not on where it is held.
        let shard = Tensor(repeating: 1, shape: [4, 8, 50])
        let layout = BatchLayout(chunks: [0..<8], globalBatch: 64, globalOffset: 16)
        let part = dropout.forward(shard, StepContext(layout: layout, reducer: LocalReducer(), training: true,
                                                       timeSteps: 4, seed: 7, step: 3))
        XCTAssertEqual(Array(part.data[0..<400]), Array(y.data[800..<1200]))
        // Another step draws another mask.
        let next = dropout.forward(x, StepContext(layout: .whole(batch: 64, chunkSize: 8), reducer: LocalReducer(),
                                                  training: true, timeSteps: 4, seed: 7, step: 4))
        XCTAssertNotEqual(next.data, y.data)
    }

    func testRowSumsMatchDoubleLoops() {
        for count in [1, 7, 8, 9, 1023] {
            let a = randomTensor([count], seed: UInt64(count)), b = randomTensor([count], seed: UInt64(count) + 1)
            let sum = a.data.reduce(0.0) { $0 + Double($1) }
            let squares = a.data.reduce(0.0) { $0 + Double($1 - 0.25) * Double($1 - 0.25) }
            let products = zip(a.data, b.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1 - 0.5) }
            a.withPointer { x in
                b.withPointer { y in
                    XCTAssertEqual(Double(RowSums.sum(x, count: count)), sum, accuracy: 1e-5 * Double(count))
                    XCTAssertEqual(Double(RowSums.squaredDeviations(x, count: count, from: 0.25)), squares, accuracy: 1e-5 * Double(count))
                    XCTAssertEqual(Double(RowSums.dot(x, y, count: count, shift: 0.5)), products, accuracy: 1e-5 * Double(count))
                }
            }
        }
    }

    /// The 2×2 fast path of AvgPool2d equals the general window loop (an
    /// adaptive pool with the same windows).
    func testAveragePoolFastPathMatchesWindows() {
        for size in [2, 7, 8, 9] {
            let x = randomTensor([2, 3, 4, size, size], seed: UInt64(size))
            let fast = AveragePool(.fixed(kernel: 2)).forward(x, context(batch: 3, timeSteps: 2))
            let general = AveragePool(.adaptive(output: size / 2))
            if size % 2 == 0 {
                assertClose(fast, general.forward(x, context(batch: 3, timeSteps: 2)), tolerance: 1e-6, "avgpool2 fast path: \(size)")
            }
            XCTAssertEqual(fast.shape, [2, 3, 4, size / 2, size / 2])
        }
    }

    /// Worker threads run whole chunks, so their number cannot change a bit.
    func testWorkerCountDoesNotChangeResults() throws {
        func step(workers: Int) throws -> [Float] {
            Parallel.configure(workers: workers)
            defer { Parallel.configure(workers: 1) }
            let net = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                                      activation: .spiking(NeuronConfig(model: .clif, surrogate: .rectangle)),
                                                      dropout: 0.2))
            let x = randomTensor([16, 1, 8, 8], seed: 3).repeatedOverTime(3)
            let ctx = StepContext(layout: .whole(batch: 16, chunkSize: 2), reducer: LocalReducer(), training: true, timeSteps: 3)
            _ = TrainingStep.gradients(net, input: x, targets: .labels((0..<16).map { $0 % 10 }), loss: LossConfig(), context: ctx)
            return net.parameters.gradients + net.buffers.values
        }
        XCTAssertEqual(try step(workers: 1), try step(workers: 3))
    }
}
