@testable import Core
import Foundation
import XCTest

/// The tables and the chart of `clif-mpi energy`, from rates given by hand:
/// a convolution reading the analog input, then the classifier.
final class EnergyReportTests: XCTestCase {
    let conv = EnergyModel.Layer(name: "features.0",
                                 shape: .convolution(inChannels: 1, inHeight: 8, inWidth: 8, outChannels: 4, outHeight: 8,
                                                     outWidth: 8, kernelHeight: 3, kernelWidth: 3),
                                 parameterCount: 40)
    let linear = EnergyModel.Layer(name: "classifier", shape: .linear(inFeatures: 256, outFeatures: 10), parameterCount: 2570)

    func pass(_ neuron: String, top1: Double, rate: Double) -> EnergyMeasurement.Pass {
        EnergyMeasurement.Pass(
            neuron: neuron, top1: top1,
            layers: [MeasuredLayer(layer: conv, analogInput: true, inputRate: 1, outputRate: rate, drivenNeuron: "features.1"),
                     MeasuredLayer(layer: linear, analogInput: false, inputRate: rate, outputRate: 0, drivenNeuron: nil)],
            neuronRates: [(name: "features.1", rate: rate)])
    }

    var report: EnergyReport {
        EnergyReport(timeSteps: 4, measured: EnergyMeasurement.Result(
            trained: pass("CLIF", top1: 0.9, rate: 0.25), trainedNeuron: .clif, lif: pass("LIF", top1: 0.8, rate: 0.125)))
    }

    func nanojoules(_ layer: EnergyModel.Layer, _ neuron: EnergyModel.Neuron, input: Double, output: Double,
                    analog: Bool) -> Double {
        EnergyModel.energy(layer, neuron: neuron, timeSteps: 4, inputRate: input, outputRate: output, staticInput: analog).total / 1000
    }

    func testTablesShowEveryLayerForBothNeuronsAndTheANN() {
        let lines = report.text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("| features.1 | 25.00 % | 12.50 % |"), report.text)
        let conv = String(format: "| features.0 | conv 3×3 1×8×8 → 4×8×8 | 1 (analog) | 25.00 %% | %.2f | 1 (analog) | 12.50 %% | %.2f | %.2f |",
                          nanojoules(self.conv, .clif, input: 1, output: 0.25, analog: true),
                          nanojoules(self.conv, .lif, input: 1, output: 0.125, analog: true),
                          nanojoules(self.conv, .ann, input: 1, output: 0.25, analog: true))
        XCTAssertTrue(lines.contains(conv), "\(conv)\n\(report.text)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("| classifier | linear 256 → 10 | 25.00 % | 0.00 % |") }, report.text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("| CLIF | 90.00 % |") }, report.text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("| LIF | 80.00 % |") }, report.text)
        let ann = lines.first { $0.hasPrefix("| ANN |  |") }
        XCTAssertEqual(ann?.hasSuffix("| 1.000 |"), true, "the ANN against itself: \(report.text)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("|") }.count, 3 + 4 + 5, report.text)
    }

    func testChartHasABarPerLayerForEachNeuronInNanojoules() {
        let chart = report.chart(title: "t", subtitle: "s")
        XCTAssertEqual(chart.categories, ["features.0", "classifier"])
        XCTAssertEqual(chart.series.map(\.name), ["CLIF", "LIF", "ANN"])
        XCTAssertEqual(chart.series[0].values[0], nanojoules(conv, .clif, input: 1, output: 0.25, analog: true), accuracy: 1e-12)
        XCTAssertEqual(chart.series[1].values[1], nanojoules(linear, .lif, input: 0.125, output: 0, analog: false), accuracy: 1e-12)
        XCTAssertEqual(chart.format(1.234), "1.23")
    }
}
