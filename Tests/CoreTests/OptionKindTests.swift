import XCTest
import Core

/// The named choices of a run's options: `-opt` and `-neuron_model` names in
/// any letter case, the other names exactly; each kind builds the value it
/// names.
final class OptionKindTests: XCTestCase {
    func testCaseInsensitiveNames() {
        XCTAssertEqual(ActivationKind(caseInsensitive: "lif"), .lif)
        XCTAssertEqual(ActivationKind(caseInsensitive: "Clif"), .clif)
        XCTAssertEqual(ActivationKind(caseInsensitive: "RELU"), .relu)
        XCTAssertNil(ActivationKind(caseInsensitive: "LIF "))
        XCTAssertNil(ActivationKind(caseInsensitive: "HH"))
        XCTAssertEqual(OptimizerKind(caseInsensitive: "adamw"), .adamW)
        XCTAssertEqual(OptimizerKind(caseInsensitive: "sgd"), .sgd)
        XCTAssertNil(OptimizerKind(caseInsensitive: "adam"))
        // Exact names only where the flag takes them exactly.
        XCTAssertNil(LearningRateSchedule.Kind(rawValue: "cosalr"))
        XCTAssertNil(Surrogate(rawValue: "Sigmoid"))
    }

    func testKindsBuildWhatTheyName() {
        XCTAssertEqual(Activation(.relu), .relu)
        XCTAssertEqual(Activation(.plif, surrogate: .triangle, tau: 3, vReset: 0),
                       .spiking(NeuronConfig(model: .plif, surrogate: .triangle, tau: 3, vReset: 0)))
        for kind in ActivationKind.allCases {
            XCTAssertEqual(Activation(name: kind.rawValue.lowercased()), Activation(kind))
        }
        XCTAssertEqual(LearningRateSchedule(.cosine, tMax: 7, stepSize: 3, gamma: 0.5), .cosine(tMax: 7))
        XCTAssertEqual(LearningRateSchedule(.step, tMax: 7, stepSize: 3, gamma: 0.5), .step(stepSize: 3, gamma: 0.5))
        var options = TrainingOptions()
        XCTAssertTrue(options.makeOptimizer() is SGD)
        options.optimizer = .adamW
        XCTAssertTrue(options.makeOptimizer() is AdamW)
    }
}
