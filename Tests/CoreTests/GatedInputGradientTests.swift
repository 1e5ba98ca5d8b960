import XCTest
@testable import Core

/// The surrogate-gated input gradient: the neuron's open-window flags.
final class GatedInputGradientTests: XCTestCase {
    /// The flags mark exactly `|h − θ| <= supportHalfWidth` (h from the
    /// reference forward), every closed element has a zero surrogate
    /// gradient, and columns outside the call are not written.
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
}
