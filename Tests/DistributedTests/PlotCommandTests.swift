import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `--plot FILE.svg` of `infer` and `energy`: a well-formed SVG holding the
/// numbers the command prints, with its title and axis labels; a file that
/// cannot be written stops the command before it evaluates, naming the file.
final class PlotCommandTests: XCTestCase {
    static let trained: Result<String, Error> = Result {
        let (run, checkpoint) = try Tool.trainDigits("plot", timeSteps: 4, epochs: 1, checkpoint: "checkpoint_max.safetensors")
        guard run.status == 0 else { throw EventFileReader.Failure(description: "training failed: \(run.output)") }
        return checkpoint
    }

    /// The SVG's text elements, after checking that it parses as XML.
    func texts(_ url: URL) throws -> [String] {
        final class Collector: NSObject, XMLParserDelegate {
            var texts: [String] = [], current: String?
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) { if name == "text" { current = "" } }
            func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                if name == "text", let current { texts.append(current) }
                current = nil
            }
        }
        let parser = try XCTUnwrap(XMLParser(contentsOf: url)), collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "\(url.path) is not well-formed XML: \(String(describing: parser.parserError))")
        return collector.texts
    }

    func testEnergyPlotHoldsThePrintedEnergies() throws {
        let checkpoint = try Self.trained.get()
        let svg = try Tool.temporaryFolder("plot-energy").appendingPathComponent("energy.svg")
        let run = try Tool.run(try Tool.binary.path, ["energy", "--checkpoint", checkpoint, "-b", "100", "--plot", svg.path])
        XCTAssertEqual(run.status, 0, run.output)
        let texts = try texts(svg)
        XCTAssertTrue(texts.contains("clif-mpi energy: spiking_cnn_small on the digits test set (364 images)"), "\(texts)")
        // The subtitle is wrapped over lines of text.
        XCTAssertTrue(texts.joined().contains("checkpoint \(checkpoint), T=4"), "\(texts)")
        for label in ["energy per sample (nJ)", "layer", "CLIF", "LIF", "ANN", "features.0", "features.4", "classifier"] {
            XCTAssertTrue(texts.contains(label), "\(label) missing from \(texts)")
        }
        // Each layer's three bars carry the energies of the printed table (nJ, 2 decimals).
        let rows = run.output.split(separator: "\n").filter { $0.hasPrefix("| features.") || $0.hasPrefix("| classifier") }
            .map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { $0.count == 9 }
        XCTAssertEqual(rows.map { $0[0] }, ["features.0", "features.4", "classifier"], run.output)
        for row in rows {
            for energy in [row[4], row[7], row[8]] { XCTAssertTrue(texts.contains(energy), "\(row[0]): \(energy) not in \(texts)") }
        }
    }

    func testInferPlotHoldsThePrintedAccuracies() throws {
        let checkpoint = try Self.trained.get()
        let folder = try Tool.temporaryFolder("plot-infer")
        let svg = folder.appendingPathComponent("conversion.svg")
        let run = try Tool.run(try Tool.binary.path, ["infer", "-resume", checkpoint, "-b", "100", "-out_dir", folder.path,
                                                      "--v-reset", "none,0", "--plot", svg.path])
        XCTAssertEqual(run.status, 0, run.output)
        let texts = try texts(svg)
        for label in ["accuracy on the test set (%)", "neuron and reset", "top-1", "top-5",
                      "CLIF soft reset", "CLIF hard reset 0.0"] {
            XCTAssertTrue(texts.contains(label), "\(label) missing from \(texts)")
        }
        XCTAssertTrue(texts.joined().contains("checkpoint \(checkpoint), trained with CLIF, T=4"), "\(texts)")
        let rows = run.output.split(separator: "\n").filter { $0.hasPrefix("| CLIF |") }
            .map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        XCTAssertEqual(rows.count, 2, run.output)
        for row in rows {
            for accuracy in [row[2], row[3]] { XCTAssertTrue(texts.contains(accuracy), "\(accuracy) not in \(texts)") }
        }
    }

    func testUnwritablePlotStopsAtOnce() throws {
        let binary = try Tool.binary.path
        let folder = try Tool.temporaryFolder("plot-bad")
        let file = folder.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        for (command, path) in [(["energy", "-model", "spiking_cnn_small", "-dataset", "digits", "-neuron", "CLIF"], "/nonexistent/energy.svg"),
                                (["infer", "-model", "spiking_cnn_small", "-dataset", "digits", "-out_dir", folder.path],
                                 file.path + "/conversion.svg")] {
            let run = try Tool.run(binary, command + ["--plot", path])
            XCTAssertNotEqual(run.status, 0, run.output)
            XCTAssertTrue(run.output.contains("--plot \(path): the folder"), run.output)
            XCTAssertFalse(run.output.contains("| "), "evaluated before refusing the plot file: \(run.output)")
        }
        let png = try Tool.run(binary, ["energy", "--plot", folder.appendingPathComponent("energy.png").path])
        XCTAssertNotEqual(png.status, 0)
        XCTAssertTrue(png.output.contains("expected a file name ending in .svg"), png.output)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().filter { $0 != "a-file" }.count, 0,
                       "nothing may be left behind")
    }
}
