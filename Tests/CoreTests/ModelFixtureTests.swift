import Foundation
import XCTest
@testable import Core

/// Full training steps of reduced-width spiking_resnet18 / spiking_vgg11_bn
/// against the original's step-by-step PyTorch loop (T = 4, N = 4, 32×32):
/// logits, loss, every parameter gradient and BN running statistics after one
/// step (relative error ≤ 1e-5 / 1e-4), all weights after 3 SGD steps (≤ 1e-4).
final class ModelFixtureTests: XCTestCase {
    func network(for f: SafeTensorsFile) throws -> Network {
        let meta = f.metadata
        let activation = try XCTUnwrap(Activation(name: meta["neuron"]!, surrogate: Surrogate(rawValue: meta["surrogate"]!)!,
                                                  tau: Float(meta["tau"]!)!))
        let spec = ModelSpec(name: meta["model"]!, inChannels: 3, classes: Int(meta["classes"]!)!, height: 32, width: 32,
                             activation: activation, widthDivisor: Int(meta["width_divisor"]!)!)
        let net = try ModelFactory.make(spec)
        // Load every state_dict entry by its PyTorch name.
        var loaded = 0
        for store in [net.parameters, net.buffers] {
            for entry in store.entries {
                store.set(entry, try f.required("init." + entry.name).data)
                loaded += 1
            }
        }
        XCTAssertEqual(loaded, f.names.filter { $0.hasPrefix("init.") }.count, "every fixture tensor has a model tensor")
        XCTAssertEqual(net.parameters.count, Int(meta["param_count"]!)!, "parameter count")
        return net
    }

    /// The fixture's three SGD steps on `net`; `inspect` sees each step's
    /// gradients before the update.
    func train(_ net: Network, _ f: SafeTensorsFile,
               inspect: (Int, StepResult) throws -> Void = { _, _ in }) throws {
        let t = Int(f.metadata["T"]!)!, n = Int(f.metadata["N"]!)!
        let sgd = SGD(learningRate: Float(f.metadata["lr"]!)!, momentum: Float(f.metadata["momentum"]!)!,
                      weightDecay: Float(f.metadata["weight_decay"]!)!)
        let loss = LossConfig(lambda: Float(f.metadata["loss_lambda"]!)!, lossMeans: Float(f.metadata["loss_means"]!)!)
        for step in 0..<3 {
            // Static images, as the original feeds them: the input layer computes one step.
            let ctx = StepContext(layout: .whole(batch: n, chunkSize: 2), reducer: LocalReducer(), training: true,
                                  timeSteps: t, step: step, staticInput: step != 1)
            let x = try f.required("x\(step)").repeatedOverTime(t)
            let labels = try f.required("y\(step)").data.map { Int($0) }
            let result = TrainingStep.gradients(net, input: x, targets: .labels(labels), loss: loss, context: ctx)
            try inspect(step, result)
            sgd.step(parameters: &net.parameters.values, gradients: net.parameters.gradients)
        }
    }

    func check(_ fixture: String) throws {
        let f = try Fixture.load("models/\(fixture)")
        let net = try network(for: f)
        let t = Int(f.metadata["T"]!)!, n = Int(f.metadata["N"]!)!
        try train(net, f) { step, result in
            if step == 0 {
                print("margin \(fixture): fixture min |h − v_th| = \(f.metadata["min_margin"] ?? "?")")
                assertClose(result.logits, try f.required("logits0").reshaped([t, n, result.logits.shape[2]]),
                            tolerance: 1e-5, "model logits: \(fixture)")
                assertClose(Tensor(shape: [1], data: [result.loss]), try f.required("loss0"), tolerance: 1e-5,
                            "model loss: \(fixture)")
                let gradientScale = try net.parameters.entries.map { try f.required("grad." + $0.name).maxMagnitude }.max()!
                for entry in net.parameters.entries {
                    assertCloseOrZero(net.parameters.gradient(entry), try f.required("grad." + entry.name),
                                      scale: gradientScale, tolerance: 1e-4, "model gradient: \(fixture) \(entry.name)")
                }
                for entry in net.buffers.entries where !entry.name.hasSuffix("num_batches_tracked") {
                    assertClose(net.buffers.tensor(entry), try f.required("bn_after0." + entry.name), tolerance: 1e-5,
                                "model BN statistics: \(fixture) \(entry.name)")
                }
            }
        }
        for store in [net.parameters, net.buffers] {
            let scale = try store.entries.map { try f.required("final." + $0.name).maxMagnitude }.max()!
            for entry in store.entries {
                assertCloseOrZero(store.tensor(entry), try f.required("final." + entry.name), scale: scale,
                                  tolerance: 1e-4, "model after 3 steps: \(fixture) \(entry.name)")
            }
        }
    }

    /// `assertClose`, except for tensors that are zero in exact arithmetic —
    /// the bias of a convolution followed by BatchNorm has a zero gradient, so
    /// the reference holds float64 rounding noise (~1e-17) there. Those are
    /// compared in absolute terms against `scale`, the largest magnitude of
    /// any tensor of the same kind in the model.
    func assertCloseOrZero(_ actual: Tensor, _ expected: Tensor, scale: Float, tolerance: Float, _ what: String,
                           file: StaticString = #filePath, line: UInt = #line) {
        if expected.maxMagnitude < 1e-9 * scale {
            let error = actual.data.allSatisfy(\.isFinite) ? actual.maxMagnitude / scale : .infinity
            XCTAssertLessThanOrEqual(error, tolerance, "\(what) (zero in exact arithmetic): |a| / scale = \(error)",
                                     file: file, line: line)
            DifferenceLog.record(what + " (analytic zero)", error)
        } else {
            assertClose(actual, expected, tolerance: tolerance, what, file: file, line: line)
        }
    }

    func testResNet18CLIF() throws { try check("resnet18_clif") }

    /// The surrogate-gated conv input gradient (CLIF, rectangle surrogate)
    /// trains the fixture model to the same weights as the dense path within
    /// the fixture's tolerance, and is taken (the weights are not bit-equal).
    func testGatedInputGradientTrainsLikeTheDensePath() throws {
        defer { Conv2d.gatedDensityLimit = 0.35 }
        let f = try Fixture.load("models/resnet18_clif")
        var trained: [ParameterStore] = []
        for limit: Float in [0, 1] {
            Conv2d.gatedDensityLimit = limit
            let net = try network(for: f)
            try train(net, f)
            trained.append(net.parameters)
        }
        let (dense, gated) = (trained[0], trained[1])
        let scale = dense.entries.map { dense.tensor($0).maxMagnitude }.max()!
        for entry in dense.entries {
            assertCloseOrZero(gated.tensor(entry), dense.tensor(entry), scale: scale, tolerance: 1e-4,
                              "gated vs dense after 3 steps: \(entry.name)")
        }
        XCTAssertNotEqual(gated.values, dense.values, "the gated path was taken")
    }
    func testVGG11CLIF() throws { try check("vgg11_clif") }
    func testVGG11PLIF() throws { try check("vgg11_plif") }

    /// Full-width parameter counts equal PyTorch's (models/param_counts.json).
    func testParameterCounts() throws {
        let url = Fixture.root.appendingPathComponent("models/param_counts.json")
        let counts = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: url))
        XCTAssertFalse(counts.isEmpty)
        for (name, expected) in counts.sorted(by: { $0.key < $1.key }) {
            let side = name == "vggsnn" ? 48 : 32
            let spec = ModelSpec(name: name, inChannels: name == "vggsnn" ? 2 : 3, classes: 10, height: side, width: side,
                                 activation: .spiking(NeuronConfig(model: .clif, surrogate: .rectangle)))
            let net = try ModelFactory.make(spec)
            XCTAssertEqual(net.parameters.count, expected, "\(name) parameter count")
            print("params \(name) \(net.parameters.count)")
        }
    }
}
