import Core
import Foundation
import XCTest

/// The SVG bar chart of `--plot` and the atomic file writer under it.
final class BarChartTests: XCTestCase {
    func testTicksCoverTheValuesInRoundSteps() {
        XCTAssertEqual(BarChart.ticks(upTo: 117.67), [0, 20, 40, 60, 80, 100, 120])
        XCTAssertEqual(BarChart.ticks(upTo: 100), [0, 20, 40, 60, 80, 100])
        XCTAssertEqual(BarChart.ticks(upTo: 0.37), [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4].map { $0 }, accuracy: 1e-12)
        XCTAssertEqual(BarChart.ticks(upTo: 0), [0, 0.2, 0.4, 0.6, 0.8, 1.0], accuracy: 1e-12, "an empty chart still has an axis")
    }

    func testLabelsAreEscapedAndBarsScaled() {
        let chart = BarChart(title: "a <b> & \"c\"", subtitle: "s", valueAxis: "energy (nJ)", categoryAxis: "layer",
                             categories: ["x", "y"], series: [("one", [50, 100]), ("two", [0, 25])])
        let svg = chart.svg
        XCTAssertTrue(svg.contains(">a &lt;b&gt; &amp; &quot;c&quot;</text>"), svg)
        XCTAssertFalse(svg.contains("<b>"))
        // The longest bar spans the whole axis (0…100), the half-value bar half of it.
        let widths = svg.components(separatedBy: "<rect x=").compactMap { item -> Double? in
            guard let range = item.range(of: "width=\""), item.contains("height=\"14.0\"") else { return nil }
            return Double(item[range.upperBound...].prefix { $0 != "\"" })
        }
        XCTAssertEqual(widths.count, 4, svg)
        // Row by row: x (50, 0), then y (100, 25).
        XCTAssertEqual(widths[0] * 2, widths[2], accuracy: 0.11)
        XCTAssertEqual(widths[1], 0)
        XCTAssertEqual(widths[3] * 4, widths[2], accuracy: 0.21)
    }

    func testLongSubtitlesWrapAtSeparators() {
        let text = "checkpoint /runs/BPTT_digits_x/checkpoint_max.safetensors, T=4"
        XCTAssertEqual(BarChart.wrapped(text, limit: 20),
                       ["checkpoint /runs/", "BPTT_digits_x/", "checkpoint_", "max.safetensors, T=4"])
        XCTAssertEqual(BarChart.wrapped("abcdefghij", limit: 4), ["abcd", "efgh", "ij"], "no separator: cut at the limit")
        XCTAssertEqual(BarChart.wrapped("short", limit: 20), ["short"])
    }

    func testAtomicWriteIntoAMissingFolderNamesTheFileAndLeavesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clif-atomic-\(getpid())")
        try? FileManager.default.removeItem(at: folder)
        let target = folder.appendingPathComponent("missing/plot.svg")
        XCTAssertThrowsError(try AtomicFile.write(Data("<svg/>".utf8), to: target, what: "plot")) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot write plot \(target.path): creating .plot.svg.tmp-"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let written = folder.appendingPathComponent("plot.svg")
        try AtomicFile.write(Data("<svg/>".utf8), to: written, what: "plot")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["plot.svg"])
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, _ message: String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(a) vs \(b) \(message)", file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b) \(message)", file: file, line: line) }
}
