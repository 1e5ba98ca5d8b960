@testable import Core
import Foundation
import XCTest

/// What `infer` derives from its settings: inference.py's log folder name and
/// family line, clif-mpi's table and its chart.
final class InferenceSettingsTests: XCTestCase {
    func settings(neuron: String, activation: Activation, trained: String? = "CLIF") -> InferenceSettings {
        InferenceSettings(model: "spiking_resnet18", dataset: "cifar10", dataDirectory: "./data", timeSteps: 6, tau: 2.0,
                          neuron: neuron, activation: activation, trainedNeuron: trained)
    }

    func row(_ reset: Float?) -> ResetSweep.Row {
        ResetSweep.Row(reset: reset, result: Evaluation.Result(loss: 1.5, top1: 0.5, top5: 0.875, samples: 100, seconds: 4))
    }

    func testFolderNameIsInferencePys() {
        let lif = settings(neuron: "LIF", activation: Activation(.lif))
        XCTAssertEqual(lif.folderName(name: "x", batchSize: 128, cutupmixAuto: false),
                       "inference_cifar10_spiking_resnet18_x_T6_tau2.0_bs128_amp")
        let clif = settings(neuron: "clif", activation: Activation(.clif))
        XCTAssertEqual(clif.folderName(name: "", batchSize: 64, cutupmixAuto: true),
                       "inference_cifar10_spiking_resnet18__T6_tau2.0_bs64_clif__amp_cutupmix_auto")
    }

    func testFamilyLines() {
        XCTAssertEqual(InferenceSettings.familyLine("spiking_resnet18"), "using Resnet model.")
        XCTAssertEqual(InferenceSettings.familyLine("vggsnn"), "using Spiking VGG model.")
        XCTAssertNil(InferenceSettings.familyLine("spiking_cnn_small"))
    }

    func testTableNamesTheResetOfEveryRow() {
        let s = settings(neuron: "LIF", activation: Activation(.lif))
        XCTAssertEqual(s.tableHeader(testImages: 364, processes: 2)[0],
                       "spiking_resnet18 trained with CLIF, evaluated with LIF, T=6, cifar10 test set (364 images), 2 process(es)")
        XCTAssertEqual(s.tableRow(row(nil)), "| LIF | soft | 50.00 % | 87.50 % | 1.5000 | 25.0 |")
        XCTAssertEqual(s.tableRow(row(-0.02)), "| LIF | hard -0.02 | 50.00 % | 87.50 % | 1.5000 | 25.0 |")
        let relu = settings(neuron: "relu", activation: .relu, trained: nil)
        XCTAssertEqual(relu.tableRow(row(nil)), "| relu | – | 50.00 % | 87.50 % | 1.5000 | 25.0 |")
        XCTAssertTrue(relu.tableHeader(testImages: 1, processes: 1)[0].hasPrefix("spiking_resnet18 evaluated with relu"))
    }

    func testChartHasTopOneAndTopFivePerReset() {
        let s = settings(neuron: "LIF", activation: Activation(.lif))
        let chart = s.chart([row(nil), row(0)], testImages: 364, checkpoint: "run/checkpoint_max.pth")
        XCTAssertEqual(chart.categories, ["LIF soft reset", "LIF hard reset 0.0"])
        XCTAssertEqual(chart.series.map(\.name), ["top-1", "top-5"])
        XCTAssertEqual(chart.series[1].values, [87.5, 87.5])
        XCTAssertEqual(chart.subtitle, "checkpoint run/checkpoint_max.pth, trained with CLIF, T=6")
        XCTAssertEqual(settings(neuron: "relu", activation: .relu, trained: nil).chart([row(nil)], testImages: 1, checkpoint: nil).categories,
                       ["relu (ANN)"])
    }
}
