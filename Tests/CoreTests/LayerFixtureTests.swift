import XCTest
@testable import Core

/// Every layer's forward and backward against PyTorch (float64 reference,
/// tools/make_fixtures.py), relative error ≤ 1e-5.
final class LayerFixtureTests: XCTestCase {
    let tolerance: Float = 1e-5

    /// A layer applied to a fixture's `x` with upstream gradient `grad_y`
    /// (L = Σ y·grad_y), as one time step of a batch of N.
    func run(_ layer: Layer, x: Tensor, gradY: Tensor, chunkSize: Int = 1, training: Bool = true)
        -> (y: Tensor, gradX: Tensor) {
        let ctx = context(batch: x.shape[1], chunkSize: chunkSize, timeSteps: x.shape[0], training: training)
        let y = layer.forward(x, ctx)
        return (y, layer.backward(gradY, ctx))
    }

    func testConvolutions() throws {
        let fixtures = try Fixture.all(in: "layers").filter { $0.name.hasPrefix("conv_") }
        XCTAssertEqual(fixtures.count, 6, "conv fixtures (tools/make_fixtures.py writes 6): one is missing or renamed")
        for (name, f) in fixtures {
            let x = try f.required("x"), w = try f.required("weight")
            let meta = f.metadata
            let builder = ModelBuilder(seed: 0)
            let conv = Conv2d(builder, "conv", inChannels: w.shape[1], outChannels: w.shape[0],
                              kernel: Int(meta["kernel"]!)!, stride: Int(meta["stride"]!)!,
                              padding: Int(meta["padding"]!)!, bias: f.tensor("bias") != nil)
            builder.parameters.set(conv.weight, w.data)
            if let bias = conv.bias { builder.parameters.set(bias, try f.required("bias").data) }
            let asSteps = { (t: Tensor) in t.reshaped([1] + t.shape) }
            let (y, gradX) = run(conv, x: asSteps(x), gradY: asSteps(try f.required("grad_y")))
            assertClose(y, asSteps(try f.required("y")), tolerance: tolerance, "conv forward: \(name)")
            assertClose(gradX, asSteps(try f.required("grad_x")), tolerance: tolerance, "conv grad_x: \(name)")
            assertClose(builder.parameters.gradient(conv.weight), try f.required("grad_weight"), tolerance: tolerance,
                        "conv grad_weight: \(name)")
            if let bias = conv.bias {
                assertClose(builder.parameters.gradient(bias), try f.required("grad_bias"), tolerance: tolerance,
                            "conv grad_bias: \(name)")
            }
        }
    }

    func testBatchNormTrainingPerTimeStep() throws {
        let f = try Fixture.load("layers/batchnorm_train")
        let x = try f.required("x")
        for chunkSize in [1, 3, 4] {
            let (builder, bn) = try batchNorm(f, channels: x.shape[2])
            let (y, gradX) = run(bn, x: x, gradY: try f.required("grad_y"), chunkSize: chunkSize)
            assertClose(y, try f.required("y"), tolerance: tolerance, "batchnorm forward: chunk \(chunkSize)")
            assertClose(gradX, try f.required("grad_x"), tolerance: tolerance, "batchnorm grad_x: chunk \(chunkSize)")
            assertClose(builder.parameters.gradient(bn.weight), try f.required("grad_weight"), tolerance: tolerance,
                        "batchnorm grad_weight")
            assertClose(builder.parameters.gradient(bn.bias), try f.required("grad_bias"), tolerance: tolerance,
                        "batchnorm grad_bias")
            assertClose(builder.buffers.tensor(bn.runningMean), try f.required("running_mean_out"), tolerance: tolerance,
                        "batchnorm running_mean")
            assertClose(builder.buffers.tensor(bn.runningVar), try f.required("running_var_out"), tolerance: tolerance,
                        "batchnorm running_var")
            XCTAssertEqual(builder.buffers.values[bn.batchesTracked.offset], Float(x.shape[0]))
        }
    }

    func testBatchNormEval() throws {
        let f = try Fixture.load("layers/batchnorm_eval")
        let asSteps = { (t: Tensor) in t.reshaped([1] + t.shape) }
        let x = asSteps(try f.required("x"))
        let (builder, bn) = try batchNorm(f, channels: x.shape[2])
        let (y, gradX) = run(bn, x: x, gradY: asSteps(try f.required("grad_y")), training: false)
        assertClose(y, asSteps(try f.required("y")), tolerance: tolerance, "batchnorm eval forward")
        assertClose(gradX, asSteps(try f.required("grad_x")), tolerance: tolerance, "batchnorm eval grad_x")
        assertClose(builder.parameters.gradient(bn.weight), try f.required("grad_weight"), tolerance: tolerance,
                    "batchnorm eval grad_weight")
        assertClose(builder.parameters.gradient(bn.bias), try f.required("grad_bias"), tolerance: tolerance,
                    "batchnorm eval grad_bias")
    }

    private func batchNorm(_ f: SafeTensorsFile, channels: Int) throws -> (ModelBuilder, BatchNorm2d) {
        let builder = ModelBuilder(seed: 0)
        let bn = BatchNorm2d(builder, "bn", channels: channels)
        builder.parameters.set(bn.weight, try f.required("weight").data)
        builder.parameters.set(bn.bias, try f.required("bias").data)
        let mean = f.tensor("running_mean_in") ?? f.tensor("running_mean")
        let variance = f.tensor("running_var_in") ?? f.tensor("running_var")
        builder.buffers.set(bn.runningMean, try XCTUnwrap(mean).data)
        builder.buffers.set(bn.runningVar, try XCTUnwrap(variance).data)
        return (builder, bn)
    }

    func testPooling() throws {
        let fixtures = try Fixture.all(in: "layers").filter { $0.name.hasPrefix("avgpool") || $0.name.hasPrefix("adaptive7") }
        XCTAssertEqual(fixtures.count, 10, "pooling fixtures (2 avgpool + 8 adaptive7): one is missing or renamed")
        for (name, f) in fixtures {
            let kind: AveragePool.Kind = name.hasPrefix("avgpool")
                ? .fixed(kernel: Int(name.dropFirst("avgpool".count).prefix { $0.isNumber })!)
                : .adaptive(output: 7)
            let asSteps = { (t: Tensor) in t.reshaped([1] + t.shape) }
            let (y, gradX) = run(AveragePool(kind), x: asSteps(try f.required("x")), gradY: asSteps(try f.required("grad_y")))
            assertClose(y, asSteps(try f.required("y")), tolerance: tolerance, "pool forward: \(name)")
            assertClose(gradX, asSteps(try f.required("grad_x")), tolerance: tolerance, "pool grad_x: \(name)")
        }
    }

    func testLinear() throws {
        let f = try Fixture.load("layers/linear")
        let w = try f.required("weight")
        let builder = ModelBuilder(seed: 0)
        let linear = Linear(builder, "fc", inFeatures: w.shape[1], outFeatures: w.shape[0])
        builder.parameters.set(linear.weight, w.data)
        builder.parameters.set(linear.bias, try f.required("bias").data)
        let asSteps = { (t: Tensor) in t.reshaped([1] + t.shape) }
        let (y, gradX) = run(linear, x: asSteps(try f.required("x")), gradY: asSteps(try f.required("grad_y")), chunkSize: 4)
        assertClose(y, asSteps(try f.required("y")), tolerance: tolerance, "linear forward")
        assertClose(gradX, asSteps(try f.required("grad_x")), tolerance: tolerance, "linear grad_x")
        assertClose(builder.parameters.gradient(linear.weight), try f.required("grad_weight"), tolerance: tolerance, "linear grad_weight")
        assertClose(builder.parameters.gradient(linear.bias), try f.required("grad_bias"), tolerance: tolerance, "linear grad_bias")
    }

    func testLoss() throws {
        let fixtures = try Fixture.all(in: "layers").filter { $0.name.hasPrefix("loss_") }
        XCTAssertEqual(fixtures.count, 4, "loss fixtures: one is missing or renamed")
        for (name, f) in fixtures {
            let meta = f.metadata
            let t = Int(meta["T"]!)!, n = Int(meta["N"]!)!, classes = Int(meta["classes"]!)!
            let config = LossConfig(lambda: Float(meta["lambda"]!)!, lossMeans: Float(meta["loss_means"]!)!,
                                    mseOneHot: meta["mse_n_reg"] == "true",
                                    labelSmoothing: Float(meta["label_smoothing"]!)!)
            let labels = try f.required("labels").data.map { Int($0) }
            let logits = try f.required("logits").reshaped([t, n, classes])
            for chunkSize in [1, 3] {
                let (loss, gradient) = Loss.evaluate(logits: logits, targets: .labels(labels), config: config,
                                                     context: context(batch: n, chunkSize: chunkSize, timeSteps: t))
                assertClose(Tensor(shape: [1], data: [loss]), try f.required("loss"), tolerance: tolerance, "loss value: \(name)")
                assertClose(gradient, try f.required("grad_logits").reshaped([t, n, classes]), tolerance: tolerance,
                            "loss gradient: \(name)")
            }
        }
    }

    func testAccuracy() throws {
        let f = try Fixture.load("layers/accuracy")
        let labels = try f.required("labels").data.map { Int($0) }
        let logits = try f.required("logits")
        let t = logits.shape[0] / labels.count
        let hits = Accuracy.hits(logits: logits.reshaped([t, labels.count, logits.shape[1]]), labels: labels)
        XCTAssertEqual(Float(hits.top1), try f.required("top1_correct").data[0])
        XCTAssertEqual(Float(hits.top5), try f.required("top5_correct").data[0])
    }

    func testOptimizers() throws {
        for (name, make) in [("sgd", { SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4) as Optimizer }),
                             ("adamw", { AdamW(learningRate: 0.01, weightDecay: 5e-4) as Optimizer })] {
            let f = try Fixture.load("layers/\(name)")
            let optimizer = make()
            var p = try f.required("p0").data
            for step in 0..<3 {
                optimizer.step(parameters: &p, gradients: try f.required("g\(step)").data)
                assertClose(Tensor(shape: [p.count], data: p), try f.required("p\(step + 1)"), tolerance: tolerance,
                            "optimizer: \(name) step \(step + 1)")
            }
        }
    }

    func testSchedulers() throws {
        let f = try Fixture.load("layers/schedulers")
        let cosine = try f.required("cosalr"), step = try f.required("steplr")
        let ours = (0..<cosine.count).map { LearningRateSchedule.cosine(tMax: 10).rate(base: 0.1, epoch: $0) }
        assertClose(Tensor(shape: cosine.shape, data: ours), cosine, tolerance: tolerance, "scheduler: CosALR")
        let steps = (0..<step.count).map { LearningRateSchedule.step(stepSize: 3, gamma: 0.1).rate(base: 0.1, epoch: $0) }
        assertClose(Tensor(shape: step.shape, data: steps), step, tolerance: tolerance, "scheduler: StepLR")
    }
}
