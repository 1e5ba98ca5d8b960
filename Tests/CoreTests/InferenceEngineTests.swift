import Foundation
import XCTest
@testable import Core

/// `ResetSweep` (infer's table) and `EnergyMeasurement` (the energy
/// estimate's passes): each pass is `Evaluation.run` with the neuron set as named.
final class InferenceEngineTests: XCTestCase {
    func digitsModel() throws -> (LoadedDataset, Network) {
        let data = try DatasetCatalog.load("digits", dataDirectory: URL(fileURLWithPath: "."))
        let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: data.channels, classes: data.classes,
                                                      height: data.height, width: data.width,
                                                      activation: try XCTUnwrap(Activation(name: "CLIF")), seed: 11))
        // Larger weights make the fresh network fire often, so the reset matters.
        network.parameters.values = network.parameters.values.map { 3 * $0 }
        return (data, network)
    }

    func testEachRowIsOneEvaluationWithItsReset() throws {
        let (data, network) = try digitsModel()
        let base = NeuronConfig(model: .lif, surrogate: .rectangle, tau: 2)
        let setup = EvaluationSetup(data: data, batchSize: 100, timeSteps: 4)
        var announced: [Float?] = []
        let rows = ResetSweep(activation: .spiking(base), resets: [nil, 0, -0.1]).run(network, setup) { announced.append($0.reset) }
        XCTAssertEqual(announced, [nil, 0, -0.1])
        XCTAssertEqual(rows.map(\.reset), [nil, 0, -0.1])
        for row in rows {
            var config = base
            config.vReset = row.reset
            for (_, layer) in network.neurons { layer.config = config }
            let direct = Evaluation.run(network, on: data.test, normalization: data.normalization, batchSize: 100, timeSteps: 4)
            XCTAssertEqual(row.result.loss, direct.loss, "reset \(String(describing: row.reset))")
            XCTAssertEqual(row.result.top1, direct.top1)
            XCTAssertEqual(row.result.top5, direct.top5)
        }
        XCTAssertNotEqual(rows[0].result.loss, rows[2].result.loss, "soft and hard -0.1 resets gave the same loss: the reset was not applied")
    }

    func testReluHasOneSoftRow() {
        XCTAssertEqual(ResetSweep(activation: .relu, resets: [nil, 0]).resets, [nil])
    }

    func testEnergyMeasuresLIFAgainOnlyWhenItDiffers() throws {
        let (data, network) = try digitsModel()
        let setup = EvaluationSetup(data: data, batchSize: 100, timeSteps: 2)
        var sums = 0
        let clif = EnergyMeasurement.measure(network, base: NeuronConfig(model: .clif, surrogate: .rectangle, tau: 2),
                                             lifReset: nil, setup) { _ in sums += 1 }
        XCTAssertEqual(sums, 2)
        XCTAssertEqual([clif.trained.neuron, clif.lif.neuron], ["CLIF", "LIF"])
        XCTAssertEqual(clif.trainedNeuron, .clif)
        XCTAssertFalse(clif.trained.layers.isEmpty)
        XCTAssertNotEqual(clif.trained.neuronRates.map(\.rate), clif.lif.neuronRates.map(\.rate))

        sums = 0
        let lif = EnergyMeasurement.measure(network, base: NeuronConfig(model: .lif, surrogate: .rectangle, tau: 2),
                                            lifReset: nil, setup) { _ in sums += 1 }
        XCTAssertEqual(sums, 1, "LIF with the same reset is measured once")
        XCTAssertEqual(lif.trainedNeuron, .lif)
        XCTAssertEqual(lif.trained.layers, lif.lif.layers)

        let hard = EnergyMeasurement.measure(network, base: NeuronConfig(model: .lif, surrogate: .rectangle, tau: 2),
                                             lifReset: 0, setup) { totals in totals = totals.map { $0 * 2 } }
        XCTAssertEqual(hard.lif.neuron, "LIF (hard 0.0)")
        // `sum` is what every process's counts add up to: doubling them doubles the rates.
        XCTAssertEqual(hard.trained.neuronRates.map(\.rate), lif.trained.neuronRates.map { 2 * $0.rate })
    }
}
