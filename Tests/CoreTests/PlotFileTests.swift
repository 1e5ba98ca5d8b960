import Core
import Foundation
import XCTest

/// `--plot`'s file: its name, its folder checked before the work, the chart
/// written whole.
final class PlotFileTests: XCTestCase {
    func testOnlySVGNamesAreAccepted() {
        XCTAssertNil(PlotFile.problem("a/b.SVG"))
        XCTAssertEqual(PlotFile.problem("b.png"), "--plot b.png: expected a file name ending in .svg")
    }

    func testMissingFolderIsNamed() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("clif-plot-missing-\(getpid())")
        let file = PlotFile(path: missing.appendingPathComponent("chart.svg").path)
        XCTAssertThrowsError(try file.checkFolder()) { error in
            XCTAssertTrue(error is LoggingError, "\(type(of: error))")
            XCTAssertEqual("\(error)", "--plot \(file.path): the folder \(missing.path) does not exist; create it or name another file")
        }
    }

    func testChartIsWrittenAndNothingElse() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clif-plot-\(getpid())")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = PlotFile(path: folder.appendingPathComponent("chart.svg").path)
        try file.checkFolder()
        let chart = BarChart(title: "t", subtitle: "s", valueAxis: "v", categoryAxis: "c",
                             categories: ["x"], series: [("one", [1])])
        try file.write(chart)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["chart.svg"])
        XCTAssertEqual(try String(contentsOfFile: file.path, encoding: .utf8), chart.svg)
    }
}
