import XCTest
@testable import Core

/// The surrogate-gated input gradient: the neuron's open-window flags, the
/// dense and gated conv input-gradient kernels against the plain reference,
/// and the gated layer path against the dense one.
final class GatedInputGradientTests: XCTestCase {
    override func tearDown() { Conv2d.gatedDensityLimit = 0.35 }

    /// The flags mark exactly `|h − θ| <= supportHalfWidth` (h from the
    /// reference forward), every closed element has a zero surrogate
    /// gradient, and columns outside the call are not written.
    /// The word-wise count of open flags equals a plain count on awkward
    /// sizes and unaligned starts.
    func testOpenCountMatchesAPlainCount() {
        var stream = RandomStream(seed: 9, name: "open count")
        let flags = (0..<1100).map { _ in UInt8(stream.uniform() < 0.4 ? 1 : 0) }
        flags.withUnsafeBufferPointer { f in
            for (start, count) in [(0, 0), (0, 1), (1, 7), (3, 8), (5, 9), (7, 1023), (0, 1100)] {
                let plain = flags[start..<(start + count)].reduce(0) { $0 + Int($1) }
                XCTAssertEqual(OpenWindow.openCount(f.baseAddress! + start, count: count), plain, "\(count) flags from \(start)")
            }
        }
        let all = [UInt8](repeating: 1, count: 1027)
        XCTAssertEqual(all.withUnsafeBufferPointer { OpenWindow.openCount($0.baseAddress!, count: $0.count) }, 1027)
        let window = OpenWindow(flags: flags, shape: [flags.count])
        XCTAssertEqual(window.elementFraction, Double(flags.reduce(0) { $0 + Int($1) }) / Double(flags.count))
        XCTAssertEqual(OpenWindow(flags: [], shape: [0]).elementFraction, 0)
    }

    func testOpenWindowFlagsMarkTheSurrogateSupport() {
        var generator = NeuronKernelTests.Generator(state: 5)
        let T = 5, M = 300, columns = 7..<290
        let input = generator.array(T * M, -0.5, 2.5)
        for config in NeuronKernelTests.allConfigs {
            let decay = NeuronKernelTests.decay(config)
            let reference = NeuronKernelTests.runForward(fast: false, input: input, T: T, M: M, columns: columns,
                                                         config: config, decay: decay)
            var flags = [UInt8](repeating: 9, count: T * M)
            var spikes = [Float](repeating: 0, count: T * M)
            spikes.withUnsafeMutableBufferPointer { s in
                flags.withUnsafeMutableBufferPointer { f in
                    input.withUnsafeBufferPointer { x in
                        NeuronKernels.spikes(s.baseAddress!, openWindow: f.baseAddress!, input: x.baseAddress!, timeSteps: T,
                                             width: M, columns: columns, config: config, decay: decay)
                    }
                }
            }
            let halfWidth = config.surrogate.supportHalfWidth ?? .infinity
            for t in 0..<T {
                for j in 0..<M {
                    let i = t * M + j
                    guard columns.contains(j) else {
                        XCTAssertEqual(flags[i], 9, "\(config): column \(j) outside the call was written")
                        continue
                    }
                    let z = reference.charged[i] - config.vThreshold
                    XCTAssertEqual(flags[i], abs(z) <= halfWidth ? 1 : 0, "\(config): flag at (\(t), \(j)), z = \(z)")
                    if flags[i] == 0 {
                        XCTAssertEqual(NeuronKernels.referenceSurrogateGradient(config.surrogate, z), 0,
                                       "\(config): closed window at (\(t), \(j)) with a nonzero surrogate gradient")
                    }
                }
            }
            if config.surrogate != .sigmoid {
                XCTAssertTrue(flags.contains(0) && flags.contains(1), "\(config): both open and closed windows occur")
            }
        }
    }

    let geometries: [(c: Int, o: Int, size: Int, k: Int, s: Int, p: Int)] = [
        (1, 1, 1, 1, 1, 0), (7, 9, 8, 3, 1, 1), (8, 7, 9, 3, 2, 1), (9, 8, 7, 1, 2, 0), (3, 5, 1, 3, 1, 1),
        (2, 33, 33, 3, 2, 1), (65, 64, 5, 3, 1, 1), (64, 65, 6, 3, 1, 0), (16, 128, 4, 1, 1, 0), (5, 17, 6, 3, 1, 2),
    ]

    /// Dense (GEMM + col2im) everywhere and gated at every open value equal
    /// the reference loops within fp32 rounding; the gated kernel leaves the
    /// closed values alone.
    func testKernelsMatchTheReference() {
        for (c, o, size, k, s, p) in geometries {
            let g = ConvGeometry(channels: c, height: size, width: size, kernel: k, stride: s, padding: p)
            let images = 3, inImage = c * g.inPixels, columns = images * g.outPixels
            let what = "c\(c) o\(o) \(size)² k\(k) s\(s) p\(p)"
            let weight = randomTensor([o, c, k, k], seed: UInt64(c + o)).data
            let gradOut = randomTensor([o, columns], seed: UInt64(size + k)).data
            var stream = RandomStream(seed: UInt64(c * o), 3)
            let flags = (0..<(images * inImage)).map { _ in UInt8(stream.uniform() < 0.3 ? 1 : 0) }
            var expected = [Float](repeating: 0, count: images * inImage)
            var image = [Float](repeating: 0, count: o * g.outPixels)
            for j in 0..<images {
                for oc in 0..<o {
                    for q in 0..<g.outPixels { image[oc * g.outPixels + q] = gradOut[oc * columns + j * g.outPixels + q] }
                }
                expected.withUnsafeMutableBufferPointer { e in
                    ConvInputGradient.reference(e.baseAddress! + j * inImage, gradOut: image, weight: weight, outChannels: o, geometry: g)
                }
            }
            var weightT = [Float](repeating: 0, count: weight.count)
            EventConv.offsetMajor(&weightT, weight, outChannels: o, channels: c, offsets: k * k)
            let sentinel: Float = 777
            var dense = [Float](repeating: 0, count: images * inImage), gated = [Float](repeating: sentinel, count: images * inImage)
            dense.withUnsafeMutableBufferPointer { d in
                gated.withUnsafeMutableBufferPointer { gd in
                    flags.withUnsafeBufferPointer { f in
                        ConvInputGradient.dense(images: (0..<images).map { d.baseAddress! + $0 * inImage }, gradOut: gradOut, ld: columns,
                                                weight: weight, outChannels: o, geometry: g)
                        ConvInputGradient.gated(images: (0..<images).map { gd.baseAddress! + $0 * inImage },
                                                flags: (0..<images).map { f.baseAddress! + $0 * inImage },
                                                gradOut: gradOut, ld: columns, weightT: weightT, outChannels: o, geometry: g)
                    }
                }
            }
            let scale = Tensor(shape: [expected.count], data: expected)
            assertClose(Tensor(shape: [dense.count], data: dense), scale, tolerance: 1e-5, "dense input gradient: " + what)
            let openOnly = zip(expected, flags).map { $1 == 1 ? $0 : sentinel }
            XCTAssertTrue(flags.contains(1), what)
            XCTAssertTrue(zip(gated, flags).allSatisfy { $1 == 1 || $0 == sentinel }, "gated kernel wrote a closed value: " + what)
            assertClose(Tensor(shape: [gated.count], data: gated), Tensor(shape: [openOnly.count], data: openOnly),
                        tolerance: 1e-5, "gated input gradient: " + what)
        }
    }

    /// The gated kernel groups open values (four interior pixels of a
    /// channel at a time, the rest one by one): a value's bits must not
    /// depend on which other values are open, i.e. on the group it fell in.
    func testAnOpenValueDoesNotDependOnTheOtherOpenValues() {
        for (c, o, size, k, s, p) in geometries {
            let g = ConvGeometry(channels: c, height: size, width: size, kernel: k, stride: s, padding: p)
            let images = 2, inImage = c * g.inPixels, columns = images * g.outPixels
            let weight = randomTensor([o, c, k, k], seed: UInt64(c * 7 + o)).data
            let gradOut = randomTensor([o, columns], seed: UInt64(size * 5 + k)).data
            var weightT = [Float](repeating: 0, count: weight.count)
            EventConv.offsetMajor(&weightT, weight, outChannels: o, channels: c, offsets: k * k)
            func gated(_ flags: [UInt8]) -> [Float] {
                var dx = [Float](repeating: 0, count: images * inImage)
                dx.withUnsafeMutableBufferPointer { d in
                    flags.withUnsafeBufferPointer { f in
                        ConvInputGradient.gated(images: (0..<images).map { d.baseAddress! + $0 * inImage },
                                                flags: (0..<images).map { f.baseAddress! + $0 * inImage },
                                                gradOut: gradOut, ld: columns, weightT: weightT, outChannels: o, geometry: g)
                    }
                }
                return dx
            }
            let everyValue = gated([UInt8](repeating: 1, count: images * inImage))
            var stream = RandomStream(seed: UInt64(size * c), 5)
            for density: Float in [0.1, 0.45] {
                let flags = (0..<(images * inImage)).map { _ in UInt8(stream.uniform() < density ? 1 : 0) }
                let some = gated(flags)
                let differing = (0..<flags.count).filter { flags[$0] == 1 && some[$0].bitPattern != everyValue[$0].bitPattern }
                XCTAssertEqual(differing.count, 0, "c\(c) o\(o) \(size)² k\(k) s\(s) p\(p), density \(density): first at \(differing.first ?? -1)")
            }
        }
    }

    /// A conv fed by a CLIF layer's spikes: with the gate its input gradient
    /// equals the dense one at every open value and is zero elsewhere, and
    /// the neuron's input gradient is the same within fp32 rounding.
    func testGatedLayerPathEqualsTheDenseOne() throws {
        for (c, o, size, k, s, p) in [(8, 16, 9, 3, 1, 1), (16, 8, 8, 3, 2, 1), (16, 32, 4, 1, 2, 0)] {
            var results: [(conv: Tensor, neuron: Tensor, window: OpenWindow)] = []
            for limit: Float in [0, 1] {
                Conv2d.gatedDensityLimit = limit
                let builder = ModelBuilder(seed: 4)
                let neuron = SpikingNeuron(builder, "sn", config: NeuronConfig(model: .clif, surrogate: .rectangle))
                let conv = Conv2d(builder, "c", inChannels: c, outChannels: o, kernel: k, stride: s, padding: p)
                let ctx = context(batch: 3, chunkSize: 2, timeSteps: 4)
                let x = randomTensor([4, 3, c, size, size], seed: 2, scale: 0.6, shift: 0.5)
                let spikes = neuron.forward(x, ctx)
                let window = try XCTUnwrap(spikes.openWindow)
                let y = conv.forward(spikes, ctx)
                let gradConv = conv.backward(randomTensor(y.shape, seed: 3), ctx)
                let gradNeuron = neuron.backward(gradConv, ctx)
                ctx.reducer.finishPending()
                results.append((gradConv, gradNeuron, window))
            }
            let what = "c\(c) o\(o) \(size)² k\(k) s\(s) p\(p)"
            let (dense, gated, flags) = (results[0], results[1], results[1].window.flags)
            XCTAssertEqual(results[0].window.flags, flags, what)
            let open = flags.reduce(0) { $0 + Int($1) }
            XCTAssertTrue(open > 0 && open < flags.count / 2, "\(what): \(open) of \(flags.count) open")
            XCTAssertTrue(zip(gated.conv.data, flags).allSatisfy { $1 == 1 || $0 == 0 }, "gated: zero at closed values: " + what)
            XCTAssertTrue(zip(dense.conv.data, flags).contains { $1 == 0 && $0 != 0 }, "the dense path is nonzero there: " + what)
            let denseAtOpen = Tensor(shape: dense.conv.shape, data: zip(dense.conv.data, flags).map { $1 == 1 ? $0 : 0 })
            assertClose(gated.conv, denseAtOpen, tolerance: 1e-5, "gated conv input gradient at open values: " + what)
            assertClose(gated.neuron, dense.neuron, tolerance: 1e-5, "neuron input gradient under the gate: " + what)
        }
    }

    /// The gated path gives a sample's input gradients the same bits
    /// whichever other samples its process holds (a rank's share of the
    /// batch) and for any worker-thread count.
    func testGatedPathIsTheSameForAnyShareAndThreadCount() {
        Conv2d.gatedDensityLimit = 1
        let batch = 4, t = 3
        let x = randomTensor([t, batch, 8, 6, 6], seed: 2, scale: 0.6, shift: 0.5)
        let gradOut = randomTensor([t, batch, 16, 6, 6], seed: 3)
        func inputGradient(_ samples: Range<Int>, workers: Int) -> Tensor {
            let saved = Parallel.workers
            Parallel.configure(workers: workers)
            defer { Parallel.configure(workers: saved) }
            let builder = ModelBuilder(seed: 4)
            let neuron = SpikingNeuron(builder, "sn", config: NeuronConfig(model: .clif, surrogate: .rectangle))
            let conv = Conv2d(builder, "c", inChannels: 8, outChannels: 16, kernel: 3, padding: 1)
            let layout = BatchLayout(chunks: (0..<samples.count).map { $0..<($0 + 1) }, globalBatch: batch,
                                     globalOffset: samples.lowerBound)
            let ctx = StepContext(layout: layout, reducer: LocalReducer(), training: true, timeSteps: t)
            _ = conv.forward(neuron.forward(x.samples(samples), ctx), ctx)
            let gradInput = neuron.backward(conv.backward(gradOut.samples(samples), ctx), ctx)
            ctx.reducer.finishPending()
            return gradInput
        }
        let whole = inputGradient(0..<batch, workers: 1)
        XCTAssertTrue(whole.data.contains { $0 != 0 } && whole.data.allSatisfy(\.isFinite))
        for (samples, workers) in [(0..<batch, 3), (0..<2, 1), (2..<4, 2), (1..<2, 1)] {
            XCTAssertEqual(inputGradient(samples, workers: workers).data.map(\.bitPattern),
                           whole.samples(samples).data.map(\.bitPattern), "samples \(samples), \(workers) workers")
        }
    }
}
