import Foundation
import XCTest
@testable import Core

/// The energy model's formulas on small layers counted by hand, and the
/// activity meter's rates on a real network.
final class EnergyModelTests: XCTestCase {
    func assertClose(_ a: Double, _ b: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(b)), what, file: file, line: line)
    }

    func testSRAMInterpolation() {
        let e = EnergyModel.sramAccessEnergy
        assertClose(e(0), 0, "empty")
        assertClose(e(4096), 5, "half of 8 kB")
        assertClose(e(8192), 10, "8 kB")
        assertClose(e(20 * 1024), 15, "20 kB, halfway to 32 kB")
        assertClose(e(32 * 1024), 20, "32 kB")
        assertClose(e((32 * 1024 + 1024 * 1024) / 2), 60, "halfway to 1 MB")
        assertClose(e(1024 * 1024), 100, "1 MB")
        assertClose(e(4 * 1024 * 1024), 100, "capped beyond 1 MB")
    }

    /// digits' first convolution, 1×8×8 → 32×8×8, as an ANN: N_in 64,
    /// N_out 2048, fan-out 32·9 = 288, 320 parameters.
    func testANNConvolution() {
        let layer = EnergyModel.Layer(name: "features.0", shape: .convolution(
            inChannels: 1, inHeight: 8, inWidth: 8, outChannels: 32, outHeight: 8, outWidth: 8, kernelHeight: 3, kernelWidth: 3),
            parameterCount: 320)
        let n = EnergyModel.counts(layer, neuron: .ann, timeSteps: 6, inputRate: 1, outputRate: 0.3)
        XCTAssertEqual(n.macOperations, 18432)      // 2048 outputs × 9 taps
        XCTAssertEqual(n.accOperations, 2048)       // biases
        XCTAssertEqual(n.inputReads, 18432)
        XCTAssertEqual(n.parameterReads, 20480)
        XCTAssertEqual(n.outputWrites, 2048)
        XCTAssertEqual(n.potentialReads + n.potentialWrites, 0)
        XCTAssertEqual(n.accAddressing, 64 + 2048 + 288)
        XCTAssertEqual(n.macAddressing, 0)
        let e = EnergyModel.energy(n, of: layer, neuron: .ann)
        assertClose(e.operations, 2048 * 0.1 + 18432 * 3.2, "operations")
        assertClose(e.addressing, 240, "addressing")
        // Memories: inputs 256 B → 0.3125 pJ, outputs 8 kB → 10 pJ, parameters 1280 B → 1.5625 pJ.
        assertClose(e.inputsOutputs, 18432 * 0.3125 + 2048 * 10, "inputs/outputs")
        assertClose(e.parameters, 20480 * 1.5625, "parameters")
        assertClose(e.total, 117_667.2, "total")
    }

    /// LIF linear 4 → 2 (10 parameters), T = 2, fr_in 0.5, fr_out 0.25:
    /// S_in = 4, S_out = 1, synaptic events 4·2 + 2·2 = 12.
    func testLIFLinear() {
        let layer = EnergyModel.Layer(name: "fc", shape: .linear(inFeatures: 4, outFeatures: 2), parameterCount: 10)
        let n = EnergyModel.counts(layer, neuron: .lif, timeSteps: 2, inputRate: 0.5, outputRate: 0.25)
        XCTAssertEqual(n.macOperations, 4)          // leak: 2 steps × 2 neurons
        XCTAssertEqual(n.accOperations, 8 + 4 + 1)  // weights, biases, resets
        XCTAssertEqual(n.inputReads, 4)
        XCTAssertEqual(n.parameterReads, 12)
        XCTAssertEqual(n.potentialReads, 12)
        XCTAssertEqual(n.potentialWrites, 12)
        XCTAssertEqual(n.outputWrites, 1)
        XCTAssertEqual(n.macAddressing, 0)
        XCTAssertEqual(n.accAddressing, 8)
        let e = EnergyModel.energy(n, of: layer, neuron: .lif)
        assertClose(e.operations, 13 * 0.1 + 4 * 3.2, "operations")
        assertClose(e.addressing, 0.8, "addressing")
        // Memories: inputs 16 B, outputs 8 B, parameters 40 B, potentials 8 B; 10 pJ per 8 kB.
        let perByte = 10.0 / 8192
        assertClose(e.inputsOutputs, 4 * 16 * perByte + 1 * 8 * perByte, "inputs/outputs")
        assertClose(e.parameters, 12 * 40 * perByte, "parameters")
        assertClose(e.potentials, 24 * 8 * perByte, "potentials")
    }

    /// CLIF strided convolution 2×4×4 → 3×2×2 (k 3, stride 2, 57 parameters),
    /// T = 3, fr_in 0.25, fr_out 0.5: fan-out 27·4/16 = 6.75, S_in = 24,
    /// S_out = 18, synaptic events 24·6.75 + 36 = 198.
    func testCLIFStridedConvolution() {
        let layer = EnergyModel.Layer(name: "conv", shape: .convolution(
            inChannels: 2, inHeight: 4, inWidth: 4, outChannels: 3, outHeight: 2, outWidth: 2, kernelHeight: 3, kernelWidth: 3),
            parameterCount: 57)
        XCTAssertEqual(layer.fanOut, 6.75)
        XCTAssertEqual(layer.inputCount * layer.fanOut, layer.denseMACs)  // every input spiking = the ANN's MACs
        let n = EnergyModel.counts(layer, neuron: .clif, timeSteps: 3, inputRate: 0.25, outputRate: 0.5)
        XCTAssertEqual(n.macOperations, 3 * 3 * 12)       // 3× LIF's leak
        XCTAssertEqual(n.accOperations, 162 + 36 + 3 * 18)
        XCTAssertEqual(n.inputReads, 24)
        XCTAssertEqual(n.parameterReads, 198)
        XCTAssertEqual(n.potentialReads, 4 * 198)
        XCTAssertEqual(n.potentialWrites, 2 * 198)
        XCTAssertEqual(n.outputWrites, 18)
        XCTAssertEqual(n.macAddressing, 2 * 2 * 24)
        XCTAssertEqual(n.accAddressing, 2 * 24 * 6.75)
        let lif = EnergyModel.counts(layer, neuron: .lif, timeSteps: 3, inputRate: 0.25, outputRate: 0.5)
        XCTAssertEqual(lif.macOperations, 36)
        XCTAssertEqual(lif.accOperations, 162 + 36 + 18)
        XCTAssertEqual(lif.potentialReads, 198)
        // CLIF's potential memory holds v and m: 2·12 values = 96 B.
        let e = EnergyModel.energy(n, of: layer, neuron: .clif)
        assertClose(e.potentials, (792 + 396) * 96 * 10.0 / 8192, "potentials")
    }

    /// A static analog input is accumulated once, not at every step.
    func testStaticInputCountsOnce() {
        let layer = EnergyModel.Layer(name: "fc", shape: .linear(inFeatures: 5, outFeatures: 3), parameterCount: 18)
        let once = EnergyModel.counts(layer, neuron: .lif, timeSteps: 4, inputRate: 1, outputRate: 0, staticInput: true)
        let every = EnergyModel.counts(layer, neuron: .lif, timeSteps: 4, inputRate: 1, outputRate: 0)
        XCTAssertEqual(once.inputReads, 5)
        XCTAssertEqual(every.inputReads, 20)
        XCTAssertEqual(once.accOperations, 15 + 12)
        XCTAssertEqual(once.macOperations, every.macOperations)  // the leak still runs every step
    }

    /// Rates measured on spiking_cnn_small: what enters a layer after 2×2
    /// pooling has the rate of the neurons pooled; the first layer reads the
    /// analog input; the classifier drives no neuron; and the totals of two
    /// shards add up to the whole, exactly.
    func testActivityMeterOnSmallCNN() throws {
        let network = SpikingSmallCNN(inChannels: 1, classes: 10, height: 8, width: 8,
                                      activation: .spiking(NeuronConfig(model: .clif, surrogate: .rectangle)), seed: 7)
        var generator = RandomStream(seed: 3, name: "energy-test")
        let count = 20
        let pixels = (0..<(count * 64)).map { _ in UInt8(generator.uniform() * 255) }
        let set = ImageSet(channels: 1, height: 8, width: 8, pixels: pixels, labels: (0..<count).map { $0 % 10 }, classes: 10)
        let normalization = Normalization(mean: [0], std: [0.3])
        func measure(_ shard: Shard) -> (ActivityMeter, [Int64]) {
            let meter = ActivityMeter(network)
            _ = Evaluation.run(network, on: set, normalization: normalization, batchSize: 8, timeSteps: 4,
                               shard: shard, observer: meter)
            return (meter, meter.fixedSums(network))
        }
        let (meter, whole) = measure(Shard())
        let first = measure(Shard(rank: 0, size: 2)).1, second = measure(Shard(rank: 1, size: 2)).1
        XCTAssertEqual(zip(first, second).map { $0 + $1 }, whole)
        let layers = meter.measuredLayers(network, totals: whole, samples: count, timeSteps: 4)
        let rates = meter.neuronRates(network, totals: whole, samples: count, timeSteps: 4)
        XCTAssertEqual(layers.map { $0.layer.name }, ["features.0", "features.4", "classifier"])
        XCTAssertEqual(rates.map { $0.name }, ["features.2", "features.6"])
        XCTAssertGreaterThan(rates[0].rate, 0.01, "the test needs a firing network")
        XCTAssertTrue(layers[0].analogInput)
        XCTAssertEqual(layers[0].inputRate, 1)
        XCTAssertEqual(layers[0].outputRate, rates[0].rate)
        XCTAssertEqual(layers[1].inputRate, rates[0].rate, accuracy: 1e-12)
        XCTAssertEqual(layers[1].outputRate, rates[1].rate)
        XCTAssertEqual(layers[2].inputRate, rates[1].rate, accuracy: 1e-12)
        XCTAssertEqual(layers[2].outputRate, 0)
        XCTAssertNil(layers[2].drivenNeuron)
        XCTAssertEqual(layers[1].layer.shape, EnergyModel.Shape.convolution(inChannels: 32, inHeight: 4, inWidth: 4, outChannels: 64,
                                                          outHeight: 4, outWidth: 4, kernelHeight: 3, kernelWidth: 3))
        XCTAssertEqual(layers[1].layer.parameterCount, 64 * 32 * 9 + 64)
        XCTAssertEqual(layers[2].layer.shape, EnergyModel.Shape.linear(inFeatures: 256, outFeatures: 10))
    }
}
