import XCTest
@testable import Core

/// `bench --neuron-kernels`: a line per neuron model, said once it is timed.
final class NeuronKernelTimingTests: XCTestCase {
    func testEveryModelIsTimedAndSaid() {
        var lines: [String] = []
        NeuronKernels.timeEveryModel(timeSteps: 2, width: 9) { lines.append($0) }
        XCTAssertEqual(lines.count, NeuronModel.allCases.count)
        for (line, model) in zip(lines, NeuronModel.allCases) {
            XCTAssertTrue(line.hasPrefix("\(model.rawValue) T=2 × 9: forward "), line)
            XCTAssertTrue(line.hasSuffix(" M el/s"), line)
            XCTAssertTrue(line.contains(" M el/s, backward "), line)
        }
    }
}
