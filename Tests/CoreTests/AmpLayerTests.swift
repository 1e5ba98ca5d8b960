import XCTest
@testable import Core

/// Conv2d (im2col + GEMM and event-driven paths) and Linear under `-amp`
/// against the rounding model of `Precision` evaluated in Double: forward
/// `round(Σ round(x)·round(w) + round(b))`, backward `round(Σ round(dy)·round(w))`
/// for the input gradient and `round(Σ round(dy)·round(x))` for the weight
/// and bias gradients (one reduction chunk, so the chunk partial is the sum).
/// fp32 summation can differ from Double only where it straddles a bf16
/// rounding midpoint, so nearly every value must be bit-identical and the
/// rest one bf16 step away; leaving out any one rounding breaks this.
final class AmpLayerTests: XCTestCase {
    override func tearDown() { Conv2d.eventDensityLimit = 0.25 }

    let r = BFloat16.round as (Float) -> Float

    /// Fraction of bit-identical values; fails when any value is further than one bf16 step.
    func compare(_ actual: [Float], _ expected: [Double], _ what: String) {
        XCTAssertEqual(actual.count, expected.count, what)
        var identical = 0
        for (a, e) in zip(actual, expected) {
            let rounded = BFloat16.round(Float(e))
            if a.bitPattern == rounded.bitPattern { identical += 1; continue }
            let step = max(abs(rounded), .leastNormalMagnitude) * 0x1p-7
            XCTAssertLessThanOrEqual(abs(a - rounded), step, "\(what): \(a) vs \(rounded) (unrounded \(e))")
        }
        let fraction = Double(identical) / Double(max(1, actual.count))
        XCTAssertGreaterThanOrEqual(fraction, 0.98, "\(what): only \(identical) of \(actual.count) values bit-identical")
        DifferenceLog.record("amp layer (fraction not bit-identical): \(what)", Float(1 - fraction))
    }

    func input(_ shape: [Int], seed: UInt64, analog: Bool) -> Tensor {
        var stream = RandomStream(seed: seed, 3)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in
            let u = stream.uniform()
            return analog ? 2 * u - 0.7 : (u < 0.2 ? 1 / 0.7 : 0)  // dropout-scaled spikes: 1/0.7 is not a bf16 value
        })
    }

    func testConvolutionMatchesRoundingModel() {
        let geometries: [(c: Int, o: Int, size: Int, k: Int, s: Int, p: Int)] = [(7, 9, 8, 3, 1, 1), (8, 7, 9, 3, 2, 1), (9, 8, 7, 1, 2, 0)]
        for (c, o, size, k, s, p) in geometries {
            for analog in [false, true] {
                for limit: Float in [0, 1] {
                    Conv2d.eventDensityLimit = limit
                    let builder = ModelBuilder(seed: 9)
                    let conv = Conv2d(builder, "c", inChannels: c, outChannels: o, kernel: k, stride: s, padding: p)
                    let x = input([2, 3, c, size, size], seed: UInt64(c * 10 + o), analog: analog)
                    let ctx = StepContext(layout: .whole(batch: 3, chunkSize: 3), reducer: LocalReducer(), training: true,
                                          timeSteps: 2, precision: .bf16Autocast)
                    let y = conv.forward(x, ctx)
                    let dy = randomTensor(y.shape, seed: 4)
                    let dx = conv.backward(dy, ctx)
                    let what = "conv c\(c) o\(o) \(size)² k\(k) s\(s) \(analog ? "analog" : "spikes×1/0.7") \(limit == 0 ? "GEMM" : "events")"
                    let w = builder.parameters.tensor(conv.weight).data.map(r), b = builder.parameters.values[conv.bias!.range].map(r)
                    let xr = x.data.map(r), dyr = dy.data.map(r)
                    let oh = y.shape[3], ow = y.shape[4]
                    var yRef = [Double](repeating: 0, count: y.count), dxRef = [Double](repeating: 0, count: x.count)
                    var dwRef = [Double](repeating: 0, count: w.count), dbRef = [Double](repeating: 0, count: o)
                    for img in 0..<6 {
                        for oc in 0..<o {
                            for oy in 0..<oh {
                                for ox in 0..<ow {
                                    let yi = ((img * o + oc) * oh + oy) * ow + ox
                                    var sum = Double(b[oc])
                                    dbRef[oc] += Double(dyr[yi])
                                    for ic in 0..<c {
                                        for ky in 0..<k {
                                            for kx in 0..<k {
                                                let iy = oy * s - p + ky, ix = ox * s - p + kx
                                                guard iy >= 0, iy < size, ix >= 0, ix < size else { continue }
                                                let xi = ((img * c + ic) * size + iy) * size + ix, wi = ((oc * c + ic) * k + ky) * k + kx
                                                sum += Double(xr[xi]) * Double(w[wi])
                                                dxRef[xi] += Double(dyr[yi]) * Double(w[wi])
                                                dwRef[wi] += Double(dyr[yi]) * Double(xr[xi])
                                            }
                                        }
                                    }
                                    yRef[yi] = sum
                                }
                            }
                        }
                    }
                    compare(y.data, yRef, "forward " + what)
                    compare(dx.data, dxRef, "input gradient " + what)
                    compare(builder.parameters.gradient(conv.weight).data, dwRef, "weight gradient " + what)
                    compare(builder.parameters.gradient(conv.bias!).data, dbRef, "bias gradient " + what)
                }
            }
        }
    }

    func testLinearMatchesRoundingModel() {
        let (t, n, i, o) = (2, 3, 37, 9)
        let builder = ModelBuilder(seed: 2)
        let linear = Linear(builder, "fc", inFeatures: i, outFeatures: o)
        let x = input([t, n, i], seed: 5, analog: true)
        let ctx = StepContext(layout: .whole(batch: n, chunkSize: n), reducer: LocalReducer(), training: true,
                              timeSteps: t, precision: .bf16Autocast)
        let y = linear.forward(x, ctx)
        let dy = randomTensor(y.shape, seed: 6)
        let dx = linear.backward(dy, ctx)
        let w = builder.parameters.tensor(linear.weight).data.map(r), b = builder.parameters.values[linear.bias.range].map(r)
        let xr = x.data.map(r), dyr = dy.data.map(r)
        var yRef = [Double](repeating: 0, count: y.count), dxRef = [Double](repeating: 0, count: x.count)
        var dwRef = [Double](repeating: 0, count: w.count), dbRef = [Double](repeating: 0, count: o)
        for row in 0..<(t * n) {
            for oc in 0..<o {
                var sum = Double(b[oc])
                dbRef[oc] += Double(dyr[row * o + oc])
                for ic in 0..<i {
                    sum += Double(xr[row * i + ic]) * Double(w[oc * i + ic])
                    dxRef[row * i + ic] += Double(dyr[row * o + oc]) * Double(w[oc * i + ic])
                    dwRef[oc * i + ic] += Double(dyr[row * o + oc]) * Double(xr[row * i + ic])
                }
                yRef[row * o + oc] = sum
            }
        }
        compare(y.data, yRef, "linear forward")
        compare(dx.data, dxRef, "linear input gradient")
        compare(builder.parameters.gradient(linear.weight).data, dwRef, "linear weight gradient")
        compare(builder.parameters.gradient(linear.bias).data, dbRef, "linear bias gradient")
    }

    /// The same layer without -amp misses the rounding model: the check above can fail.
    func testFP32MissesRoundingModel() {
        let builder = ModelBuilder(seed: 2)
        let linear = Linear(builder, "fc", inFeatures: 37, outFeatures: 9)
        let x = input([2, 3, 37], seed: 5, analog: true)
        let y = linear.forward(x, StepContext(layout: .whole(batch: 3, chunkSize: 3), reducer: LocalReducer(),
                                              training: false, timeSteps: 2))
        let rounded = y.data.map(r)
        let identical = zip(y.data, rounded).filter { $0.0.bitPattern == $0.1.bitPattern }.count
        XCTAssertLessThan(identical, y.count / 10, "fp32 outputs are not bf16 values")
    }
}
