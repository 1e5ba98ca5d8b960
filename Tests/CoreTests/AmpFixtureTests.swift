import Foundation
import XCTest
@testable import Core

/// `-amp` against PyTorch's bf16 autocast (amp/resnet18_clif_amp, written by
/// tools/make_amp_fixtures.py): two training steps of width/16
/// spiking_resnet18 CLIF, T = 4, N = 4, each from PyTorch's state before it,
/// on both convolution paths (im2col + GEMM, and event-driven).
///
/// Tolerances (relative error max |a − e| / max |e|):
/// - logits, loss, BN statistics 4e-3: both sides round the same fp32 values
///   to bf16, so a value differs only where a few-ulp fp32 difference
///   (summation order) crosses a bf16 rounding midpoint — by one bf16 step,
///   2⁻⁸ ≈ 3.9e-3 of that value (observed: logits identical).
/// - parameter gradients 6e-2 per tensor, and 3e-2 for the whole gradient
///   vector (‖g − g_torch‖ / ‖g_torch‖): PyTorch 2.13 on a CPU without oneDNN
///   bf16 (this AVX2 machine) sums a convolution's weight gradient over the
///   batch in bf16, one rounding per sample and time step (T·N = 16 here;
///   16 sequential roundings of 2⁻⁹ each allow 3.1e-2 of the largest partial
///   sum), and folds the input gradient's overlapping 3×3 patches in bf16
///   (up to 9 roundings per value) before it reaches the BatchNorm and neuron
///   gradients of the layer below; clif-mpi rounds each result once (per
///   reduction chunk for weight gradients, summed exactly). Observed: at most
///   4.0e-2 per tensor (a 4-channel BatchNorm weight whose gradient is a
///   cancelling sum), 2.6e-2 for the input layer's weight, 1.75e-2 for the
///   whole vector. That clif-mpi computes its own rounding model exactly is
///   checked layer by layer, bit for bit, in AmpLayerTests.
/// - the conv biases (all followed by BatchNorm, so zero in exact arithmetic)
///   hold only bf16 rounding noise on both sides: each must stay under 2e-2
///   of the model's largest gradient.
final class AmpFixtureTests: XCTestCase {
    override func tearDown() { Conv2d.eventDensityLimit = 0.25 }

    /// The fixture's network loaded with the state step `step` starts from.
    func network(for f: SafeTensorsFile, step: Int) throws -> Network {
        let meta = f.metadata
        let activation = try XCTUnwrap(Activation(name: meta["neuron"]!, surrogate: Surrogate(rawValue: meta["surrogate"]!)!,
                                                  tau: Float(meta["tau"]!)!))
        let net = try ModelFactory.make(ModelSpec(name: meta["model"]!, inChannels: 3, classes: Int(meta["classes"]!)!,
                                                  height: 32, width: 32, activation: activation,
                                                  widthDivisor: Int(meta["width_divisor"]!)!))
        for store in [net.parameters, net.buffers] {
            for entry in store.entries { store.set(entry, try f.required("state\(step).\(entry.name)").data) }
        }
        return net
    }

    /// Step `step` of the fixture under `precision`, from PyTorch's state before it.
    func run(_ f: SafeTensorsFile, step: Int, precision: Precision) throws -> (Network, StepResult) {
        let net = try network(for: f, step: step)
        let t = Int(f.metadata["T"]!)!, n = Int(f.metadata["N"]!)!
        let ctx = StepContext(layout: .whole(batch: n, chunkSize: 2), reducer: LocalReducer(), training: true,
                              timeSteps: t, step: step, staticInput: true, precision: precision)
        let loss = LossConfig(lambda: Float(f.metadata["loss_lambda"]!)!, lossMeans: Float(f.metadata["loss_means"]!)!)
        let result = TrainingStep.gradients(net, input: try f.required("x\(step)").repeatedOverTime(t),
                                            targets: .labels(try f.required("y\(step)").data.map { Int($0) }),
                                            loss: loss, context: ctx)
        return (net, result)
    }

    func check(eventDensityLimit: Float) throws {
        Conv2d.eventDensityLimit = eventDensityLimit
        let f = try Fixture.load("amp/resnet18_clif_amp")
        let path = eventDensityLimit == 0 ? "GEMM" : "events"
        print("margin amp: fixture min |h − v_th| = \(f.metadata["min_margin"] ?? "?")")
        for step in 0..<2 {
            let (net, result) = try run(f, step: step, precision: .bf16Autocast)
            let what = "\(path) step \(step)"
            assertClose(result.logits, try f.required("logits\(step)").reshaped(result.logits.shape), tolerance: 4e-3,
                        "amp logits: \(what)")
            assertClose(Tensor(shape: [1], data: [result.loss]), try f.required("loss\(step)"), tolerance: 4e-3,
                        "amp loss: \(what)")
            let scale = try net.parameters.entries.map { try f.required("grad\(step).\($0.name)").maxMagnitude }.max()!
            var squaredError = 0.0, squaredNorm = 0.0
            for entry in net.parameters.entries {
                let expected = try f.required("grad\(step).\(entry.name)")
                for (a, e) in zip(net.parameters.gradient(entry).data, expected.data) {
                    squaredError += Double(a - e) * Double(a - e); squaredNorm += Double(e) * Double(e)
                }
                if entry.name.contains("conv") || entry.name.contains("shortcut"), entry.name.hasSuffix(".bias") {
                    let ours = net.parameters.gradient(entry).maxMagnitude / scale, theirs = expected.maxMagnitude / scale
                    XCTAssertLessThanOrEqual(ours, 2e-2, "amp gradient \(what) \(entry.name) (analytic zero)")
                    XCTAssertLessThanOrEqual(theirs, 2e-2, "fixture gradient \(what) \(entry.name) (analytic zero)")
                    DifferenceLog.record("amp gradient (analytic zero, |g| / scale): \(what) \(entry.name)", ours)
                } else {
                    assertClose(net.parameters.gradient(entry), expected, tolerance: 6e-2, "amp gradient: \(what) \(entry.name)")
                }
            }
            let normError = Float((squaredError / squaredNorm).squareRoot())
            XCTAssertLessThanOrEqual(normError, 3e-2, "amp gradient: \(what): ‖g − g_torch‖ / ‖g_torch‖ = \(normError)")
            DifferenceLog.record("amp gradient norm (‖g − g_torch‖ / ‖g_torch‖): \(what)", normError)
            for entry in net.buffers.entries where !entry.name.hasSuffix("num_batches_tracked") {
                assertClose(net.buffers.tensor(entry), try f.required("bn_after\(step).\(entry.name)"), tolerance: 4e-3,
                            "amp BN statistics: \(what) \(entry.name)")
            }
        }
    }

    func testGEMMPathMatchesAutocast() throws { try check(eventDensityLimit: 0) }
    func testEventPathMatchesAutocast() throws { try check(eventDensityLimit: 1) }

    /// The fixture tells bf16 from fp32: the fp32 logits miss it by more than
    /// the -amp tolerance, and -amp changes the logits and gradients.
    func testAmpDiffersFromFP32() throws {
        let f = try Fixture.load("amp/resnet18_clif_amp")
        let (fp32Net, fp32) = try run(f, step: 0, precision: .fp32)
        let (ampNet, amp) = try run(f, step: 0, precision: .bf16Autocast)
        let expected = try f.required("logits0").reshaped(amp.logits.shape)
        let fp32Error = fp32.logits.relativeError(to: expected), ampError = amp.logits.relativeError(to: expected)
        print("max-diff amp vs fp32: fp32 logits vs the autocast fixture \(fp32Error), -amp logits \(ampError)")
        XCTAssertGreaterThan(fp32Error, 4e-3, "fp32 logits would pass the -amp tolerance: the fixture cannot tell")
        XCTAssertGreaterThan(fp32Error, 3 * ampError)
        XCTAssertNotEqual(fp32Net.parameters.gradients, ampNet.parameters.gradients)
    }
}
