import Core
import Foundation
import XCTest

/// Both neuron kernels against the spikingjelly oracle: every file of Tests/Fixtures/neurons
/// (tools/FIXTURES.md (a): T = 8, x of shape [8, 4, 37], references computed in float64).
final class NeuronFixtureTests: XCTestCase {
    /// Float32 recursions over 8 steps against the float64 truth. Measured (both kernels, all 29
    /// files): h 9.6e-8, v 1.5e-7, m 1.1e-7, grad_x 3.0e-7, grad_w 4.4e-7 relative error (max
    /// |a - e| / max |e|); the tolerances leave about an order of magnitude.
    static let stateTolerance: Float = 2e-6
    static let gradientTolerance: Float = 5e-6

    func testKernelsMatchSpikingJellyFixtures() throws {
        let files = try Fixture.all(in: "neurons")
        XCTAssertEqual(files.count, 29, "expected 27 + 2 tau = 3 neuron fixtures")
        for (name, file) in files {
            let meta = file.metadata
            let model = try XCTUnwrap(meta["neuron"].flatMap(NeuronModel.init(rawValue:)), "\(name): neuron")
            let surrogate = try XCTUnwrap(meta["surrogate"].flatMap(Surrogate.init(rawValue:)), "\(name): surrogate")
            let resetText = try XCTUnwrap(meta["reset"], "\(name): reset")
            let vReset: Float? = resetText == "soft" ? nil : try XCTUnwrap(Float(resetText), "\(name): reset \(resetText)")
            let tau = try XCTUnwrap(meta["tau"].flatMap(Float.init), "\(name): tau")
            let threshold = try XCTUnwrap(meta["v_threshold"].flatMap(Float.init), "\(name): v_threshold")
            XCTAssertEqual(meta["alpha"].flatMap(Float.init), surrogate.alpha, "\(name): alpha")
            XCTAssertEqual(meta["detach_reset"], "false", name)
            XCTAssertEqual(meta["decay_input"], "false", name)
            let config = NeuronConfig(model: model, surrogate: surrogate, tau: tau, vThreshold: threshold, vReset: vReset)

            let x = try file.required("x")
            let gradSpikes = try file.required("grad_spikes")
            let T = x.shape[0], M = x.count / T
            var decay = 1 / tau
            var w: Float = 0
            if model == .plif {
                w = try file.required("w").data[0]
                decay = 1 / (1 + Foundation.exp(-w))
            }

            for fast in [true, false] {
                let label = "neurons \(fast ? "fast" : "reference") \(name)"
                var spikes = [Float](repeating: 0, count: T * M), charged = spikes, memory = spikes, gradX = spikes
                var gradDecay: Float = 0
                spikes.withUnsafeMutableBufferPointer { s in
                    charged.withUnsafeMutableBufferPointer { h in
                        memory.withUnsafeMutableBufferPointer { m in
                            gradX.withUnsafeMutableBufferPointer { gx in
                                let memoryPointer = model == .clif ? m.baseAddress! : nil
                                let run = fast ? NeuronKernels.forward : NeuronKernels.referenceForward
                                run(s.baseAddress!, h.baseAddress!, memoryPointer, x.data, T, M, 0..<M, config, decay)
                                let back = fast ? NeuronKernels.backward : NeuronKernels.referenceBackward
                                gradDecay = back(gx.baseAddress!, gradSpikes.data, h.baseAddress!,
                                                 memoryPointer.map { UnsafePointer($0) }, T, M, 0..<M, config, decay)
                            }
                        }
                    }
                }
                let expectedSpikes = try file.required("spikes")
                let flips = zip(spikes, expectedSpikes.data).filter { $0 != $1 }.count
                XCTAssertEqual(flips, 0, "\(label): \(flips) spikes differ (min_margin \(meta["min_margin"] ?? "?"))")
                assertClose(Tensor(shape: x.shape, data: charged), try file.required("h"),
                            tolerance: Self.stateTolerance, "\(label) h")
                // The fixture's v is the membrane after the complete step: steps (5), (6) from h, s, m.
                var v = [Float](repeating: 0, count: T * M)
                for i in v.indices {
                    let (h, s) = (charged[i], spikes[i])
                    v[i] = vReset.map { (1 - s) * h + s * $0 } ?? h - s * threshold
                    if model == .clif { v[i] -= s / (1 + Foundation.exp(-memory[i])) }
                }
                assertClose(Tensor(shape: x.shape, data: v), try file.required("v"),
                            tolerance: Self.stateTolerance, "\(label) v")
                if model == .clif {
                    assertClose(Tensor(shape: x.shape, data: memory), try file.required("m"),
                                tolerance: Self.stateTolerance, "\(label) m")
                }
                assertClose(Tensor(shape: x.shape, data: gradX), try file.required("grad_x"),
                            tolerance: Self.gradientTolerance, "\(label) grad_x")
                if model == .plif {
                    // dL/dw = dL/dk · dk/dw, k = sigmoid(w).
                    let gradW = gradDecay * decay * (1 - decay)
                    assertClose(Tensor(shape: [1], data: [gradW]), try file.required("grad_w"),
                                tolerance: Self.gradientTolerance, "\(label) grad_w")
                }
            }
        }
    }
}
