import Foundation

/// metrics.jsonl, the TensorBoard scalars the original writes, and per
/// neuron layer the firing rate, CLIF's mean memory and membrane histograms.
public final class RunLogs {
    public let metrics: FileHandle
    public let tensorBoard: TensorBoardWriter

    /// Opens (or creates) metrics.jsonl in `folder` for appending, and a TensorBoard events file.
    public init(folder: URL) throws {
        let url = folder.appendingPathComponent("metrics.jsonl")
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        metrics = try FileHandle(forWritingTo: url)
        try metrics.seekToEnd()
        tensorBoard = try TensorBoardWriter(directory: folder)
    }

    /// Appends an epoch's line and scalars, and its firing figures.
    public func record(_ report: EpochReport, _ activity: FiringSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // A diverged run still gets its line: NaN and infinities as strings.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity",
                                                                      negativeInfinity: "-Infinity", nan: "NaN")
        try metrics.write(contentsOf: encoder.encode(report) + Data("\n".utf8))
        for (tag, value) in [("train_loss", report.trainLoss), ("train_acc", report.trainAcc),
                             ("test_loss", report.testLoss), ("test_acc", report.testAcc)] {
            try tensorBoard.add(scalar: tag, value, step: report.epoch)
        }
        for (layer, rate) in activity.firingRates {
            try tensorBoard.add(scalar: "firing_rate/\(layer)", rate, step: report.epoch)
        }
        for (layer, mean) in activity.memoryMeans {
            try tensorBoard.add(scalar: "clif_m_mean/\(layer)", mean, step: report.epoch)
        }
        for (layer, histogram) in activity.membranes {
            try tensorBoard.add(histogram: "membrane_minus_threshold/\(layer)", histogram, step: report.epoch)
        }
    }
}
