@testable import Core
@testable import Distributed
import Foundation
import XCTest

/// The lines rank 0 prints from the engine's figures: an epoch's summary,
/// where a stopped run resumes, and bench's report.
final class RunLinesTests: XCTestCase {
    func testEpochLineAddsTheCommunicationShareUnderMPI() {
        let report = EpochReport(epoch: 3, lr: 0.1, trainLoss: 1.25, trainAcc: 0.5, testLoss: 2.5, testAcc: 0.25,
                                 testTop5: 0.75, maxTestAcc: 0.375, seconds: 10, samplesPerSecond: 123.456)
        let alone = EpochSummary(report: report, totalSeconds: 42.04, communicationShare: nil)
        XCTAssertEqual(alone.line, "epoch=3, train_loss=1.25, train_acc=0.5, test_loss=2.5, test_acc=0.25, max_test_acc=0.375, total_time=42.0, samples_per_s=123.5")
        let shared = EpochSummary(report: report, totalSeconds: 42.04, communicationShare: 0.1234)
        XCTAssertEqual(shared.line, alone.line + ", communication_share=0.123")
    }

    func testStopLineSaysWhyAndWhereTheRunResumes() {
        var state = TrainingState(epoch: 2, globalStep: 17, maxTestAccuracy: 0, arguments: RunArguments(), model: "m")
        state.batchInEpoch = 5
        XCTAssertEqual(TrainingEvents.stopLine(state, onRequest: false),
                       "stopped by --max-steps after step 17, in epoch 2 at batch 5; checkpoint_latest resumes there")
        XCTAssertTrue(TrainingEvents.stopLine(state, onRequest: true).hasPrefix("stopped by a stop signal after step 17"))
    }

    /// Two timed steps on one process: every section of bench's report, in order.
    func testBenchLinesHaveEverySectionInOrder() throws {
        let setup = BenchMeasurement.Setup(model: "spiking_cnn_small", activation: Activation(.lif), timeSteps: 2,
                                           batchSize: 4, chunkSamples: 1, steps: 2, warmup: 1, inference: false,
                                           precision: .fp32, dataset: nil, dataDirectory: URL(fileURLWithPath: "."),
                                           input: (1, 8, 8), classes: 3)
        var report: BenchReport?
        try Session.run(allowHeterogeneous: false, kernels: { _, _ in }) { session in
            session.configureWorkers(1)
            report = try BenchMeasurement.run(setup, session: session, note: { _ in })
        }
        let lines = try XCTUnwrap(report).lines
        let starts = ["samples/s: ", "communication share: ", "reduction traffic: 0.0 MB per step in 0 collectives (rank 0)",
                      "time share by kind of work (rank 0):", "per rank over the timed steps",
                      "  rank   0     4.0 samples/step", "  busy ranks: 1 of 1;", "firing rates and open surrogate windows"]
        var index = 0
        for start in starts {
            let found = try XCTUnwrap(lines[index...].firstIndex { $0.hasPrefix(start) }, "no '\(start)' after line \(index): \(lines)")
            index = found
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("OpenBLAS kernels: ") }, "\(lines)")
        XCTAssertEqual(lines.count - index - 1, try XCTUnwrap(report).neurons.count, "a row per neuron layer: \(lines)")
    }
}

/// What rank 0 says about the kernel probe.
final class KernelAgreementReportTests: XCTestCase {
    func testNotesAndTheRefusal() throws {
        XCTAssertNil(KernelAgreement.identical.report(allowHeterogeneous: false))
        let kernels = try XCTUnwrap(KernelAgreement.sameBitsOtherKernels(["Haswell", "Zen"]).report(allowHeterogeneous: false))
        XCTAssertFalse(kernels.isRefusal)
        XCTAssertTrue(kernels.text.hasPrefix("note: the ranks run different OpenBLAS kernels (Haswell, Zen) that compute the same bits"))
        let refused = try XCTUnwrap(KernelAgreement.differentBits(summary: "ranks 1, 2").report(allowHeterogeneous: false))
        XCTAssertTrue(refused.isRefusal)
        XCTAssertTrue(refused.text.hasPrefix("Error: ranks 1, 2 compute different bits"), refused.text)
        XCTAssertTrue(refused.text.hasSuffix("or pass --allow-heterogeneous to run anyway.\n"), refused.text)
        let allowed = try XCTUnwrap(KernelAgreement.differentBits(summary: "ranks 1, 2").report(allowHeterogeneous: true))
        XCTAssertFalse(allowed.isRefusal)
        XCTAssertTrue(allowed.text.hasPrefix("note: ranks 1, 2 compute different bits"), allowed.text)
    }
}
