import XCTest
@testable import Core

/// Central finite differences of L = Σ layer(x)·g against each layer's
/// analytic backward, for inputs and parameters (fp32, step 1e-2, so the
/// tolerance is loose: these check the calculus, the fixtures check precision).
final class FiniteDifferenceTests: XCTestCase {
    var step: Float = 1e-2

    /// Checks ∂L/∂x for `probes` coordinates of the input and of every parameter.
    func check(_ name: String, makeLayer: (ModelBuilder) -> Layer, input: Tensor, batch: Int, timeSteps: Int,
               probes: Int = 12, chunkSize: Int = 2) {
        let builder = ModelBuilder(seed: 5)
        let layer = makeLayer(builder)
        // Perturb parameters away from constant initial values (BN 1/0).
        var stream = RandomStream(seed: 11)
        for i in 0..<builder.parameters.count { builder.parameters.values[i] += 0.3 * stream.normal() }
        let ctx = { StepContext(layout: .whole(batch: batch, chunkSize: chunkSize), reducer: LocalReducer(),
                                training: true, timeSteps: timeSteps) }
        let probe = layer.forward(input, ctx())
        let g = randomTensor(probe.shape, seed: 21)
        func loss(_ x: Tensor) -> Double { dot(layer.forward(x, ctx()), g) }
        builder.parameters.zeroGradients()
        _ = layer.forward(input, ctx())
        let gradX = layer.backward(g, ctx())
        let gradP = builder.parameters.gradients
        var worst: Float = 0
        func compare(_ analytic: Float, _ numeric: Double, _ label: String) {
            let error = Float(abs(Double(analytic) - numeric)) / max(1, Float(abs(numeric)))
            worst = max(worst, error)
            XCTAssertLessThanOrEqual(error, 2e-2, "\(name) \(label): analytic \(analytic), numeric \(numeric)")
        }
        var picker = RandomStream(seed: 31)
        for _ in 0..<probes {
            let i = picker.integer(below: input.count)
            var plus = input, minus = input
            plus.data[i] += step; minus.data[i] -= step
            compare(gradX.data[i], (loss(plus) - loss(minus)) / Double(2 * step), "x[\(i)]")
        }
        for entry in builder.parameters.entries {
            for _ in 0..<min(probes, entry.count) {
                let i = entry.offset + picker.integer(below: entry.count)
                let saved = builder.parameters.values[i]
                builder.parameters.values[i] = saved + step
                let up = loss(input)
                builder.parameters.values[i] = saved - step
                let down = loss(input)
                builder.parameters.values[i] = saved
                compare(gradP[i], (up - down) / Double(2 * step), "\(entry.name)[\(i - entry.offset)]")
            }
        }
        print("finite-difference \(name): worst relative error \(worst)")
    }

    func testConv2d() {
        for (k, s, p, size) in [(3, 1, 1, 7), (3, 2, 1, 8), (1, 2, 0, 5), (1, 1, 0, 3)] {
            check("conv k\(k)s\(s)p\(p)", makeLayer: { Conv2d($0, "c", inChannels: 3, outChannels: 4, kernel: k, stride: s, padding: p) },
                  input: randomTensor([2, 3, 3, size, size], seed: 1), batch: 3, timeSteps: 2)
        }
    }

    func testBatchNorm() {
        check("batchnorm", makeLayer: { BatchNorm2d($0, "bn", channels: 3) },
              input: randomTensor([2, 5, 3, 2, 3], seed: 2, scale: 2, shift: 0.5), batch: 5, timeSteps: 2)
    }

    func testLinear() {
        check("linear", makeLayer: { Linear($0, "fc", inFeatures: 9, outFeatures: 7) },
              input: randomTensor([3, 5, 9], seed: 3), batch: 5, timeSteps: 3)
    }

    func testPooling() {
        check("avgpool2", makeLayer: { _ in AveragePool(.fixed(kernel: 2)) },
              input: randomTensor([2, 2, 3, 5, 4], seed: 4), batch: 2, timeSteps: 2)
        check("adaptive7", makeLayer: { _ in AveragePool(.adaptive(output: 7)) },
              input: randomTensor([1, 2, 2, 5, 9], seed: 5), batch: 2, timeSteps: 1)
    }

    /// The residual block, through both of its paths (spiking neurons are not
    /// differentiable, so the block is checked with ReLU).
    /// A small step and spread-out inputs keep ReLU's kink at 0 from falling
    /// inside a difference interval, where the numeric derivative is meaningless.
    func testPreActivationBlock() {
        step = 1e-3
        for (inChannels, stride, bottleneck) in [(3, 2, false), (4, 1, false), (4, 1, true), (8, 2, true)] {
            check("block in \(inChannels) stride \(stride) bottleneck \(bottleneck)",
                  makeLayer: { PreActivationBlock($0, inChannels: inChannels, channels: bottleneck ? 2 : 4, stride: stride,
                                                  bottleneck: bottleneck, activation: .relu, dropout: 0) },
                  input: randomTensor([1, 4, inChannels, 6, 6], seed: 8, scale: 2), batch: 4, timeSteps: 1)
        }
    }

    func testLoss() {
        let logits = randomTensor([3, 4, 6], seed: 7)
        let labels = [1, 5, 0, 2]
        for config in [LossConfig(), LossConfig(lambda: 0.3, mseOneHot: true, labelSmoothing: 0.1), LossConfig(lambda: 0)] {
            let ctx = context(batch: 4, chunkSize: 3, timeSteps: 3)
            let (_, gradient) = Loss.evaluate(logits: logits, targets: .labels(labels), config: config, context: ctx)
            for i in stride(from: 0, to: logits.count, by: 5) {
                var plus = logits, minus = logits
                plus.data[i] += step; minus.data[i] -= step
                let numeric = (Loss.evaluate(logits: plus, targets: .labels(labels), config: config, context: ctx).loss
                    - Loss.evaluate(logits: minus, targets: .labels(labels), config: config, context: ctx).loss) / (2 * step)
                XCTAssertEqual(gradient.data[i], numeric, accuracy: 2e-3, "loss gradient [\(i)] \(config)")
            }
        }
    }
}
