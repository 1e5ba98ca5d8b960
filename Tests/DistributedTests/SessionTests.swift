import Core
import Distributed
import Foundation
import XCTest

/// The engine's entry point on one process, and bench's measurement through it.
final class SessionTests: XCTestCase {
    struct Failure: Error {}

    func testOneProcessSessionAndItsOutcomes() throws {
        var heard: [KernelAgreement] = []
        try Session.run(allowHeterogeneous: false, kernels: { agreement, _ in heard.append(agreement) }) { session in
            XCTAssertEqual(session.size, 1)
            XCTAssertTrue(session.isLeader)
            XCTAssertEqual(session.shard, Shard())
            XCTAssertEqual(session.makeReducer().communicationSeconds, 0)
        }
        XCTAssertEqual(heard, [.identical], "one process has nothing to compare")
        XCTAssertThrowsError(try Session.run(allowHeterogeneous: false, kernels: { _, _ in }) { _ in
            throw OrderlyStop(status: 130)
        }) { XCTAssertEqual($0 as? OrderlyStop, OrderlyStop(status: 130)) }
        XCTAssertThrowsError(try Session.run(allowHeterogeneous: false, kernels: { _, _ in }) { _ in throw Failure() }) {
            XCTAssertTrue($0 is Failure, "a failure reaches the caller as it is: \($0)")
        }
    }

    /// Two timed steps of 4 samples after one untimed: the figures count the
    /// timed ones only, and every neuron layer is reported.
    func testBenchMeasurementCountsTheTimedSteps() throws {
        let setup = BenchMeasurement.Setup(model: "spiking_cnn_small", activation: Activation(.lif), timeSteps: 2,
                                           batchSize: 4, chunkSamples: 1, steps: 2, warmup: 1, inference: false,
                                           precision: .fp32, dataset: nil, dataDirectory: URL(fileURLWithPath: "."),
                                           input: (1, 8, 8), classes: 3)
        var notes: [String] = []
        var report: BenchReport?
        try Session.run(allowHeterogeneous: false, kernels: { _, _ in }) { session in
            session.configureWorkers(1)
            report = try BenchMeasurement.run(setup, session: session, note: { notes.append($0) })
        }
        let r = try XCTUnwrap(report)
        XCTAssertEqual(r.samples, 8)
        XCTAssertEqual(r.busy.map(\.samples), [8])
        XCTAssertEqual([r.channels, r.height, r.width, r.ranks, r.workers, r.steps], [1, 8, 8, 1, 1, 2])
        XCTAssertGreaterThan(r.seconds, 0)
        XCTAssertGreaterThan(r.flopsPerSample, 0)
        XCTAssertFalse(r.neurons.isEmpty)
        XCTAssertTrue(r.neurons.allSatisfy { (0...1).contains($0.firingRate) })
        XCTAssertEqual(r.traffic, ReductionTraffic(), "one process has no collectives")
        XCTAssertTrue(notes.isEmpty, "4 chunks keep 1 worker busy: \(notes)")
    }
}
