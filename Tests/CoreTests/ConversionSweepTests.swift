import Foundation
import XCTest
@testable import Core

/// The paper's conversion sweep (docs/conversion.md) on a small CLIF-trained model
/// against the reference evaluation in PyTorch + spikingjelly
/// (tools/make_conversion_fixtures.py, Tests/Fixtures/conversion).
final class ConversionSweepTests: XCTestCase {
    struct Sweep: Decodable {
        struct Result: Decodable {
            let neuron: String
            let v_reset: Double?
            let correct: Int
            let top1: Double
            let min_margin: Double
        }
        let T: Int
        let test_count: Int
        let test_labels: [Int]
        let test_pixel_sum: Int
        let results: [Result]
    }

    func testSweepMatchesTheReferenceWithinHalfAPercent() throws {
        let folder = Fixture.root.appendingPathComponent("conversion")
        let sweep = try JSONDecoder().decode(Sweep.self, from: Data(contentsOf: folder.appendingPathComponent("sweep.json")))
        let data = try DatasetCatalog.load("digits", dataDirectory: folder)
        // The reference evaluated clif-mpi's own test split.
        XCTAssertEqual(data.test.count, sweep.test_count)
        XCTAssertEqual(data.test.labels, sweep.test_labels)
        let test = try XCTUnwrap(data.test as? ImageSet, "digits is an image set")
        XCTAssertEqual(test.pixels.reduce(0) { $0 + Int($1) }, sweep.test_pixel_sum)

        let network = try ModelFactory.make(ModelSpec(name: "spiking_cnn_small", inChannels: 1, classes: 10, height: 8, width: 8,
                                                      activation: .spiking(NeuronConfig(model: .clif, surrogate: .rectangle))))
        try Checkpoint.load(from: folder.appendingPathComponent("spiking_cnn_small_digits_clif.safetensors"), into: network)
        XCTAssertEqual(sweep.results.count, 8)
        var largest = 0.0
        for reference in sweep.results {
            let model: NeuronModel = reference.neuron == "CLIF" ? .clif : .lif
            for (_, layer) in network.neurons {
                layer.config = NeuronConfig(model: model, surrogate: .rectangle, vReset: reference.v_reset.map { Float($0) })
            }
            let result = Evaluation.run(network, on: data.test, normalization: data.normalization, batchSize: 128,
                                        timeSteps: sweep.T)
            let label = "\(reference.neuron) \(reference.v_reset.map { "hard \($0)" } ?? "soft")"
            largest = max(largest, abs(result.top1 - reference.top1))
            XCTAssertEqual(result.top1, reference.top1, accuracy: 0.005,
                           "\(label): clif-mpi \(result.top1), reference \(reference.top1) (\(reference.correct)/\(sweep.test_count))")
        }
        print(String(format: "max-diff conversion sweep top-1: %.4f (8 settings, %d test images)", largest, sweep.test_count))
        // The sweep is not flat: hard resets change what LIF computes.
        XCTAssertGreaterThan(Set(sweep.results.map { $0.correct }).count, 3)
    }
}
