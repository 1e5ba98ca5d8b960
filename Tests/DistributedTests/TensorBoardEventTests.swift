import Core
import Foundation
import XCTest

/// The TensorBoard event files clif-mpi writes: histograms and scalars read
/// back by `EventFileReader` (CRCs, tags, values), a training run's firing
/// figures per neuron layer, and, where the package is installed,
/// TensorBoard's own `EventAccumulator` on that run (tools/check_tensorboard.py).
final class TensorBoardEventTests: XCTestCase {
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testHistogramAndScalarReadBack() throws {
        let dir = try Tool.temporaryFolder("tensorboard-writer")
        let writer = try TensorBoardWriter(directory: dir)
        var histogram = MembraneHistogram()
        histogram.add([-10, -5, -0.25, 0, 0.05, 1.5, 10], minus: 1)
        try writer.add(scalar: "firing_rate/features.2", 0.125, step: 3)
        try writer.add(histogram: "membrane_minus_threshold/features.2", histogram, step: 3)
        let file = try EventFileReader(url: writer.url)
        XCTAssertEqual(file.fileVersion, "brain.Event:2")
        XCTAssertEqual(file.scalars["firing_rate/features.2"], [3: 0.125])
        let h = try XCTUnwrap(file.histograms["membrane_minus_threshold/features.2"]?[3])
        XCTAssertEqual(h.num, 7)
        XCTAssertEqual(h.min, -11)
        XCTAssertEqual(h.max, 9)
        XCTAssertEqual(h.sum, -11 - 6 - 1.25 - 1 - 0.95 + 0.5 + 9, accuracy: 1e-4)
        XCTAssertEqual(h.sumSquares, 121 + 36 + 1.5625 + 1 + 0.9025 + 0.25 + 81, accuracy: 1e-4)
        XCTAssertEqual(h.bucketLimit, MembraneHistogram.limits)
        XCTAssertEqual(h.bucket.reduce(0, +), 7)
        // Buckets hold (previous limit, limit]: −11 in the first (≤ −8), −6 in (−6.2, −6], −1.25 in
        // (−1.4, −1.2], −1 in (−1.2, −1], −0.95 in (−1, −0.8], 0.5 in (0.4, 0.6], 9 in the last (> 8).
        let filled = h.bucket.enumerated().filter { $0.element > 0 }.map { MembraneHistogram.limits[$0.offset] }
        XCTAssertEqual(filled.count, 7)
        for (limit, expected) in zip(filled, [-8, -6, -1.2, -1, -0.8, 0.6, Double.greatestFiniteMagnitude]) {
            XCTAssertEqual(limit, expected, accuracy: 1e-9)
        }
    }

    func testDamagedRecordIsRefused() throws {
        let dir = try Tool.temporaryFolder("tensorboard-damaged")
        let writer = try TensorBoardWriter(directory: dir)
        try writer.add(scalar: "test_acc", 0.5, step: 0)
        var data = try Data(contentsOf: writer.url)
        data[data.count - 6] ^= 0x01
        let damaged = dir.appendingPathComponent("damaged")
        try data.write(to: damaged)
        XCTAssertThrowsError(try EventFileReader(url: damaged)) { error in
            XCTAssertTrue("\(error)".contains("bad payload CRC"), "\(error)")
        }
    }

    /// Two epochs of CLIF on the digits: every epoch holds a firing rate and
    /// a mean m per neuron layer and a histogram of h − v_th for the first
    /// and last neuron layer.
    static let run: Result<URL, Error> = Result {
        let out = try Tool.temporaryFolder("tensorboard-run")
        let result = try Tool.run(try Tool.binary.path, ["train", "-dataset", "digits", "-model", "spiking_cnn_small",
                                                         "-neuron", "CLIF", "-T", "4", "-b", "64", "-epochs", "2",
                                                         "-T_max", "2", "-out_dir", out.path])
        guard result.status == 0 else { throw EventFileReader.Failure(description: "training failed: \(result.output)") }
        return try Tool.runFolder(out)
    }

    func testTrainingRunWritesFiringFigures() throws {
        let file = try EventFileReader(url: try EventFileReader.file(in: try Self.run.get()))
        let scalars = file.scalars, histograms = file.histograms
        for layer in ["features.2", "features.6"] {
            let rates = try XCTUnwrap(scalars["firing_rate/\(layer)"], "tags: \(scalars.keys.sorted())")
            XCTAssertEqual(rates.keys.sorted(), [0, 1])
            for rate in rates.values { XCTAssertTrue(rate > 0.001 && rate < 0.9, "firing_rate/\(layer) = \(rate)") }
            let memory = try XCTUnwrap(scalars["clif_m_mean/\(layer)"])
            XCTAssertEqual(memory.keys.sorted(), [0, 1])
            for m in memory.values { XCTAssertTrue(m.isFinite && m != 0, "clif_m_mean/\(layer) = \(m)") }
            let membrane = try XCTUnwrap(histograms["membrane_minus_threshold/\(layer)"])
            XCTAssertEqual(membrane.keys.sorted(), [0, 1])
            for h in membrane.values {
                // The first sample of each of the 23 batches of 1,437 training images, T = 4.
                let perSample = layer == "features.2" ? 32 * 8 * 8 : 64 * 4 * 4
                XCTAssertEqual(h.num, Double(23 * 4 * perSample))
                XCTAssertEqual(h.bucket.reduce(0, +), h.num)
                XCTAssertLessThan(h.min, 0)
                XCTAssertTrue(h.min <= h.sum / h.num && h.sum / h.num <= h.max)
            }
        }
    }

    /// A Python with tensorboard: $CLIF_TENSORBOARD_PYTHON, the venv `make
    /// tensorboard-venv` builds, or python3.
    static func tensorBoardPython() throws -> String {
        let candidates = [ProcessInfo.processInfo.environment["CLIF_TENSORBOARD_PYTHON"],
                          repository.appendingPathComponent(".build/venv-tensorboard/bin/python").path,
                          "/usr/bin/python3", "/usr/local/bin/python3"].compactMap { $0 }
        for python in candidates where FileManager.default.isExecutableFile(atPath: python) {
            let probe = try? Tool.run(python, ["-c", "import tensorboard.backend.event_processing.event_accumulator"], timeout: 120)
            if probe?.status == 0 { return python }
        }
        throw XCTSkip("no Python with tensorboard (make tensorboard-venv, or set CLIF_TENSORBOARD_PYTHON)")
    }

    func testTensorBoardReadsTheRun() throws {
        let python = try Self.tensorBoardPython()
        let folder = try Self.run.get()
        let script = Self.repository.appendingPathComponent("tools/check_tensorboard.py").path
        let check = try Tool.run(python, [script, folder.path, "2", "features.2", "features.6"], timeout: 300)
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("tensorboard check passed"), check.output)
    }
}
