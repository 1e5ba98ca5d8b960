import XCTest
@testable import Core

/// The event-driven convolution kernels against the plain loops of
/// `EventConv+Reference.swift` and the im2col + GEMM path, on awkward sizes
/// and every kind of sparse input.
final class EventConvTests: XCTestCase {
    override func tearDown() { Conv2d.eventDensityLimit = 0.25 }

    /// An input whose nonzero values are a `density` fraction: all `value`
    /// (spikes, or spikes times a dropout scale), or varied when `value` is nil.
    func sparseInput(_ shape: [Int], density: Double, value: Float?, seed: UInt64) -> Tensor {
        var stream = RandomStream(seed: seed, 7)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in
            let u = Double(stream.uniform())
            guard u < density else { return 0 }
            return value ?? Float(u / density) + 0.25
        })
    }

    let geometries: [(c: Int, o: Int, size: Int, k: Int, s: Int, p: Int)] = [
        (1, 1, 1, 1, 1, 0), (7, 9, 8, 3, 1, 1), (8, 7, 9, 3, 2, 1), (9, 8, 7, 1, 2, 0), (3, 5, 1, 3, 1, 1),
        (2, 33, 33, 3, 2, 1), (65, 64, 5, 3, 1, 1), (64, 65, 6, 3, 1, 0), (16, 128, 4, 1, 1, 0), (130, 32, 3, 3, 1, 1),
    ]

    func testForwardMatchesDirectLoops() {
        for (c, o, size, k, s, p) in geometries {
            for value: Float? in [1, 2, nil] {
                let builder = ModelBuilder(seed: 3)
                let conv = Conv2d(builder, "c", inChannels: c, outChannels: o, kernel: k, stride: s, padding: p)
                let x = sparseInput([2, 3, c, size, size], density: 0.2, value: value, seed: UInt64(c * 100 + o))
                Conv2d.eventDensityLimit = 1
                let y = conv.forward(x, context(batch: 3, chunkSize: 2, timeSteps: 2, training: false))
                let expected = directConvolution(x, weight: builder.parameters.tensor(conv.weight),
                                                              bias: Array(builder.parameters.values[conv.bias!.range]),
                                                              stride: s, padding: p)
                assertClose(y, expected, tolerance: 1e-5, "event conv: c\(c) o\(o) \(size)² k\(k) s\(s) p\(p) value \(value.map { "\($0)" } ?? "varied")")
            }
        }
    }

    /// The per-chunk kernels on both paths (`ConvForward`, `ConvWeightGradient`:
    /// im2col + GEMM and the event kernels) against the plain loops of
    /// `EventConv.reference` and `referenceWeightGradient`. The outputs start
    /// as NaN, so a value the kernels leave unwritten fails the comparison.
    func testChunkKernelsMatchTheReference() {
        for (c, o, size, k, s, p) in geometries {
            let g = ConvGeometry(channels: c, height: size, width: size, kernel: k, stride: s, padding: p)
            for value: Float? in [1, 2, nil] {
                let images = 3, inImage = c * g.inPixels, outImage = o * g.outPixels, columns = images * g.outPixels
                let what = "c\(c) o\(o) \(size)² k\(k) s\(s) p\(p) value \(value.map { "\($0)" } ?? "varied")"
                let x = sparseInput([images, c, size, size], density: 0.2, value: value, seed: UInt64(c * 10 + o)).data
                let weight = randomTensor([o, c, k, k], seed: UInt64(o + k)).data, bias = randomTensor([o], seed: 2).data
                let dy = randomTensor([o, columns], seed: UInt64(size)).data
                var weightT = [Float](repeating: 0, count: weight.count)
                EventConv.offsetMajor(&weightT, weight, outChannels: o, channels: c, offsets: k * k)
                var expectedY = [Float](repeating: 0, count: images * outImage), expectedDW = [Float](repeating: 0, count: weight.count)
                var gemmY = [Float](repeating: .nan, count: images * outImage), eventY = gemmY
                var gemmDWT = [Float](repeating: .nan, count: weight.count), eventDWT = gemmDWT
                var gradBias = [Float](repeating: .nan, count: o)
                x.withUnsafeBufferPointer { xs in
                    let inputs = (0..<images).map { xs.baseAddress! + $0 * inImage }
                    for (j, image) in inputs.enumerated() {
                        // dY of image j as [O, OH, OW].
                        var dyImage = [Float](repeating: 0, count: outImage)
                        for oc in 0..<o {
                            for q in 0..<g.outPixels { dyImage[oc * g.outPixels + q] = dy[oc * columns + j * g.outPixels + q] }
                        }
                        expectedY.withUnsafeMutableBufferPointer { ys in
                            EventConv.reference(ys.baseAddress! + j * outImage, image: image, weight: weight, bias: bias, outChannels: o, geometry: g)
                        }
                        EventConv.referenceWeightGradient(&expectedDW, image: image, gradOut: dyImage, outChannels: o, geometry: g)
                    }
                    let events = InputEvents(images: inputs, channels: c, height: size, width: size)
                    gemmY.withUnsafeMutableBufferPointer { ys in
                        ConvForward.gemm(outputs: (0..<images).map { ys.baseAddress! + $0 * outImage }, inputs: inputs,
                                         weight: weight, bias: bias, outChannels: o, geometry: g)
                    }
                    eventY.withUnsafeMutableBufferPointer { ys in
                        ConvForward.events(outputs: (0..<images).map { ys.baseAddress! + $0 * outImage }, events: events,
                                           weightT: weightT, bias: bias, outChannels: o, geometry: g)
                    }
                    ConvWeightGradient.gemm(gradWeightT: &gemmDWT, inputs: inputs, gradOut: dy, ld: columns, outChannels: o, geometry: g)
                    ConvWeightGradient.events(gradWeightT: &eventDWT, events: events, gradOut: dy, ld: columns, outChannels: o, geometry: g)
                    ConvWeightGradient.bias(gradBias: &gradBias, gradOut: dy, columns: columns, outChannels: o)
                }
                let y = Tensor(shape: [expectedY.count], data: expectedY), dw = Tensor(shape: [expectedDW.count], data: expectedDW)
                assertClose(Tensor(shape: y.shape, data: gemmY), y, tolerance: 1e-5, "GEMM forward: " + what)
                assertClose(Tensor(shape: y.shape, data: eventY), y, tolerance: 1e-5, "event forward: " + what)
                for (path, gradWeightT) in [("GEMM", gemmDWT), ("event", eventDWT)] {
                    var gradWeight = [Float](repeating: .nan, count: weight.count)
                    EventConv.outputMajor(&gradWeight, gradWeightT, outChannels: o, channels: c, offsets: k * k)
                    assertClose(Tensor(shape: dw.shape, data: gradWeight), dw, tolerance: 1e-5, "\(path) weight gradient: " + what)
                }
                let expectedBias = (0..<o).map { oc in Float(dy[(oc * columns)..<((oc + 1) * columns)].reduce(0) { $0 + Double($1) }) }
                assertClose(Tensor(shape: [o], data: gradBias), Tensor(shape: [o], data: expectedBias), tolerance: 1e-5, "bias gradient: " + what)
            }
        }
    }

    /// Forward, weight/bias gradients and input gradient of the event path
    /// against im2col + GEMM on the same input.
    func testBackwardMatchesDensePath() {
        for (c, o, size, k, s, p) in geometries {
            for value: Float? in [1, nil] {
                var results: [(y: Tensor, dx: Tensor, dw: [Float])] = []
                for limit: Float in [0, 1] {
                    Conv2d.eventDensityLimit = limit
                    let builder = ModelBuilder(seed: 5)
                    let conv = Conv2d(builder, "c", inChannels: c, outChannels: o, kernel: k, stride: s, padding: p)
                    let x = sparseInput([2, 3, c, size, size], density: 0.15, value: value, seed: UInt64(c + 7 * o))
                    let ctx = context(batch: 3, chunkSize: 2, timeSteps: 2)
                    let y = conv.forward(x, ctx)
                    let dy = randomTensor(y.shape, seed: 11)
                    let dx = conv.backward(dy, ctx)
                    ctx.reducer.finishPending()
                    results.append((y, dx, builder.parameters.gradients))
                }
                let what = "c\(c) o\(o) \(size)² k\(k) s\(s) p\(p) value \(value.map { "\($0)" } ?? "varied")"
                assertClose(results[1].y, results[0].y, tolerance: 1e-5, "event vs GEMM forward: " + what)
                // The input gradient takes the same GEMM on both paths.
                XCTAssertEqual(results[1].dx, results[0].dx, "input gradient: " + what)
                let dw = Tensor(shape: [results[0].dw.count], data: results[0].dw)
                assertClose(Tensor(shape: dw.shape, data: results[1].dw), dw, tolerance: 1e-5, "event vs GEMM weight gradient: " + what)
            }
        }
    }

    /// Each chunk chooses its path from its own input: a dense chunk next to
    /// sparse ones gives the same values as each chunk alone would.
    func testPathIsChosenPerChunk() {
        let builder = ModelBuilder(seed: 8)
        let conv = Conv2d(builder, "c", inChannels: 4, outChannels: 8, kernel: 3, padding: 1)
        var x = sparseInput([1, 4, 4, 6, 6], density: 0.1, value: 1, seed: 3)
        // Sample 3 (the second chunk of two) is dense.
        for i in (3 * 144)..<(4 * 144) { x.data[i] = 1 }
        Conv2d.eventDensityLimit = 0.25
        let mixed = conv.forward(x, context(batch: 4, chunkSize: 2, timeSteps: 1, training: false))
        Conv2d.eventDensityLimit = 1
        let events = conv.forward(x, context(batch: 4, chunkSize: 2, timeSteps: 1, training: false))
        Conv2d.eventDensityLimit = 0
        let dense = conv.forward(x, context(batch: 4, chunkSize: 2, timeSteps: 1, training: false))
        let half = mixed.count / 2
        XCTAssertEqual(Array(mixed.data[..<half]), Array(events.data[..<half]), "sparse chunk takes the event kernels")
        XCTAssertEqual(Array(mixed.data[half...]), Array(dense.data[half...]), "dense chunk takes im2col + GEMM")
        XCTAssertNotEqual(events.data, dense.data, "the two paths round differently, so the check above can fail")
    }

    /// The cache-tiled kernels (a weight taken one kernel offset at a time in
    /// forward, the 3×3 stride-1 weight gradient over L1 slabs) add the same
    /// values in the same order as the general kernels: equal bit for bit.
    func testTiledKernelsEqualTheGeneralOnesBitForBit() {
        defer { EventConv.gatherColumnLimit = 0; EventConv.generalWeightGradient = false }
        let cases: [(c: Int, o: Int, h: Int, w: Int, s: Int, p: Int)] = [
            (70, 64, 7, 9, 1, 1), (5, 128, 4, 4, 1, 0), (130, 64, 6, 5, 2, 1), (3, 8, 1, 1, 1, 1), (9, 24, 5, 3, 1, 2),
        ]
        for (c, o, h, w, s, p) in cases {
            let g = ConvGeometry(channels: c, height: h, width: w, kernel: 3, stride: s, padding: p)
            for value: Float? in [1, 2, nil] {
                let images = 5, inImage = c * h * w, outImage = o * g.outPixels
                let x = sparseInput([images, c, h, w], density: 0.2, value: value, seed: UInt64(c * o + h))
                let weightT = randomTensor([9 * c * o], seed: 4).data
                let dy = randomTensor([o, images * g.outPixels], seed: 5).data
                let what = "c\(c) o\(o) \(h)×\(w) s\(s) p\(p) value \(value.map { "\($0)" } ?? "varied")"
                x.data.withUnsafeBufferPointer { xs in
                    let events = InputEvents(images: (0..<images).map { xs.baseAddress! + $0 * inImage }, channels: c, height: h, width: w)
                    func forward(columnLimit: Int) -> [Float] {
                        EventConv.gatherColumnLimit = columnLimit
                        var out = [Float](repeating: .nan, count: images * outImage)
                        EventConv.forward(out: &out, events: events, images: 0..<images, weightT: weightT, outChannels: o, geometry: g)
                        return out
                    }
                    func weightGradient(general: Bool) -> [Float] {
                        EventConv.generalWeightGradient = general
                        var sums = [Float](repeating: .nan, count: 9 * c * o)   // a value left unwritten fails
                        EventConv.weightGradient(gradWeightT: &sums, events: events, gradOut: dy, ld: images * g.outPixels,
                                                 outChannels: o, geometry: g)
                        return sums
                    }
                    let untiled = forward(columnLimit: .max), tiled = forward(columnLimit: 0)
                    XCTAssertFalse(untiled.contains { $0.isNaN }, what)
                    assertBitwiseEqual(tiled, untiled, "forward: " + what)
                    assertBitwiseEqual(weightGradient(general: false), weightGradient(general: true), "weight gradient: " + what)
                }
            }
        }
    }

    func assertBitwiseEqual(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }
        XCTAssertTrue(differing.isEmpty, "\(what): \(differing.count) of \(a.count) differ, e.g. \(differing.prefix(3))", file: file, line: line)
    }

    /// `offsetMajor` puts weight[o, c, k] at [k, c, o] (more output channels
    /// than one block of 16, and a 1×1 kernel), and `outputMajor` undoes it.
    func testWeightLayoutMovesEveryValue() {
        for (o, c, offsets) in [(1, 1, 1), (17, 3, 9), (33, 5, 1), (16, 7, 9)] {
            let weight = (0..<(o * c * offsets)).map { Float($0) }
            var weightT = [Float](repeating: -1, count: weight.count)
            EventConv.offsetMajor(&weightT, weight, outChannels: o, channels: c, offsets: offsets)
            var misplaced = 0
            for oo in 0..<o { for cc in 0..<c { for k in 0..<offsets where weightT[(k * c + cc) * o + oo] != weight[(oo * c + cc) * offsets + k] { misplaced += 1 } } }
            XCTAssertEqual(misplaced, 0, "o\(o) c\(c) offsets \(offsets)")
            var back = [Float](repeating: -1, count: weight.count)
            EventConv.outputMajor(&back, weightT, outChannels: o, channels: c, offsets: offsets)
            XCTAssertEqual(back, weight, "o\(o) c\(c) offsets \(offsets)")
        }
    }

    func testEventsOfAnImage() {
        var x = [Float](repeating: 0, count: 2 * 3 * 5)
        x[0] = 1; x[7] = 1; x[14] = 1; x[15 + 9] = 1
        let events = x.withUnsafeBufferPointer { InputEvents(images: [$0.baseAddress!], channels: 2, height: 3, width: 5) }
        XCTAssertEqual(events.count, 4)
        XCTAssertEqual(events.segmentStart, [0, 3, 4])
        XCTAssertEqual(events.coordinates, [0, 1 << 16 | 2, 2 << 16 | 4, 1 << 16 | 4])
        XCTAssertEqual(events.uniformValue, 1)
        XCTAssertEqual(events.pixelBits, [1, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 1])
        x[7] = 0.5
        let varied = x.withUnsafeBufferPointer { InputEvents(images: [$0.baseAddress!], channels: 2, height: 3, width: 5) }
        XCTAssertEqual(varied.values, [1, 0.5, 1, 1])
        XCTAssertTrue(varied.pixelBits.isEmpty)
    }

    func testNonzeroCountOnAwkwardSizes() {
        for count in [1, 7, 8, 9, 1023] {
            let x = sparseInput([count], density: 0.3, value: nil, seed: UInt64(count))
            let expected = x.data.filter { $0 != 0 }.count
            XCTAssertEqual(x.data.withUnsafeBufferPointer { InputEvents.nonzeroCount($0.baseAddress!, count: count) }, expected, "count \(count)")
        }
    }
}
