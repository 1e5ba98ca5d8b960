@testable import Core
import Foundation
import XCTest

/// The firing figures TensorBoard shows: a neuron's recomputed membrane
/// against the reference kernel, and a `FiringMonitor`'s rates, means and
/// histograms, which must not depend on how a batch is split.
final class FiringMonitorTests: XCTestCase {
    /// `SpikingNeuron.potentials` gives one sample's h and m as the reference
    /// forward computes them over the whole batch.
    func testPotentialsMatchTheReferenceForward() {
        let (t, n, s) = (5, 3, 7)
        var stream = RandomStream(seed: 11, name: "potentials")
        let x = (0..<(t * n * s)).map { _ in Float(stream.uniform()) * 3.5 - 1 }
        for model in [NeuronModel.clif, .lif] {
            let config = NeuronConfig(model: model, surrogate: .rectangle)
            let neuron = SpikingNeuron(ModelBuilder(seed: 1), "neuron", config: config)
            let width = n * s
            var spikes = [Float](repeating: 0, count: x.count), charged = spikes, memory = spikes
            x.withUnsafeBufferPointer { input in
                memory.withUnsafeMutableBufferPointer { m in
                    NeuronKernels.referenceForward(spikes: &spikes, charged: &charged, memory: model == .clif ? m.baseAddress : nil,
                                                   input: input.baseAddress!, timeSteps: t, width: width, columns: 0..<width,
                                                   config: config, decay: neuron.decay)
                }
            }
            for sample in 0..<n {
                let got = neuron.potentials(of: Tensor(shape: [t, n, s], data: x), sample: sample)
                XCTAssertEqual(got.memory == nil, model != .clif)
                var maxDifference: Float = 0
                for step in 0..<t {
                    for i in 0..<s {
                        let j = step * width + sample * s + i
                        maxDifference = max(maxDifference, abs(got.charged[step * s + i] - charged[j]))
                        if let m = got.memory { maxDifference = max(maxDifference, abs(m[step * s + i] - memory[j])) }
                    }
                }
                // Measured: 6e-8 (the fast kernel's exp against Foundation's).
                XCTAssertLessThan(maxDifference, 1e-5, "\(model) sample \(sample): max |difference| \(maxDifference)")
            }
        }
    }

    /// A histogram filled in two parts and merged through its flat arrays
    /// (sum, maximum) equals the one filled at once.
    /// The SIMD spike count equals a plain count on awkward sizes, past the
    /// 2²⁰-value blocks its fp32 lanes are exact within, from any start.
    func testSpikeCountMatchesAPlainCount() {
        var stream = RandomStream(seed: 5, name: "spike count")
        let spikes = (0..<((1 << 21) + 37)).map { _ in Float(stream.uniform() < 0.3 ? 1 : 0) }
        spikes.withUnsafeBufferPointer { s in
            for (start, count) in [(0, 0), (0, 1), (3, 7), (1, 8), (5, 9), (2, 1023), (0, 1 << 20), (1, (1 << 21) + 36)] {
                let plain = Int64(spikes[start..<(start + count)].filter { $0 == 1 }.count)
                XCTAssertEqual(FiringMonitor.ones(s.baseAddress! + start, count), plain, "\(count) values from \(start)")
            }
        }
        let all = [Float](repeating: 1, count: (1 << 21) + 5)
        XCTAssertEqual(all.withUnsafeBufferPointer { FiringMonitor.ones($0.baseAddress!, $0.count) }, Int64(all.count))
    }

    func testHistogramMergesLikeOne() {
        let a: [Float] = [-9, -1, 0.3, 2.25], b: [Float] = [0.5, 1, 12, .nan, -0.75, 1e30, -3e38, .infinity]
        var whole = MembraneHistogram(), first = MembraneHistogram(), second = MembraneHistogram()
        whole.add(a, minus: 1); whole.add(b, minus: 1)
        first.add(a, minus: 1); second.add(b, minus: 1)
        let merged = MembraneHistogram(sums: ArraySlice(zip(first.flatSums, second.flatSums).map { $0 + $1 }),
                                       maxima: ArraySlice(zip(first.flatMaxima, second.flatMaxima).map { max($0, $1) }))
        XCTAssertEqual(merged, whole)
        XCTAssertEqual(whole.count, 10, "NaN and infinity are left out")
        XCTAssertEqual(whole.minimum, Float(-3e38) - 1)
        XCTAssertEqual(whole.maximum, Float(1e30) - 1)
        XCTAssertEqual(whole.buckets.first, 2, "−10 and −3e38 in the first bucket")
        XCTAssertEqual(whole.buckets.last, 2, "11 and 1e30 in the last")
        XCTAssertEqual(MembraneHistogram().flatMaxima.count, 2)
    }

    /// The flat arrays of a monitor's figures, as `summary` hands them to its reductions.
    func flat(_ monitor: FiringMonitor) -> (sums: [Int64], maxima: [Int32]) {
        var sums: [Int64] = [], maxima: [Int32] = []
        _ = monitor.summary(sum: { sums = $0 }, maximum: { maxima = $0 })
        return (sums, maxima)
    }

    /// spiking_cnn_small with CLIF over 20 images in batches of 8: the
    /// figures of one process equal those of two shards added up and those
    /// of another chunk size; the rates equal the energy meter's, which
    /// counts the same spikes its own way.
    func testFiguresAreTheSameForAnySplit() throws {
        let network = SpikingSmallCNN(inChannels: 1, classes: 10, height: 8, width: 8,
                                      activation: .spiking(NeuronConfig(model: .clif, surrogate: .rectangle)), seed: 7)
        var generator = RandomStream(seed: 3, name: "firing-test")
        let count = 20
        let pixels = (0..<(count * 64)).map { _ in UInt8(generator.uniform() * 255) }
        let set = ImageSet(channels: 1, height: 8, width: 8, pixels: pixels, labels: (0..<count).map { $0 % 10 }, classes: 10)
        let normalization = Normalization(mean: [0], std: [0.3])
        func measure(_ shard: Shard, chunkSamples: Int = 1, meter: ActivityMeter? = nil) -> FiringMonitor {
            let monitor = FiringMonitor(network)
            let both = ObserverPair(monitor, meter)
            _ = Evaluation.run(network, on: set, normalization: normalization, batchSize: 8, chunkSamples: chunkSamples,
                               timeSteps: 4, shard: shard, observer: both)
            return monitor
        }
        let meter = ActivityMeter(network)
        let whole = measure(Shard(), meter: meter)
        let first = flat(measure(Shard(rank: 0, size: 2))), second = flat(measure(Shard(rank: 1, size: 2)))
        let split = whole.summary(sum: { $0 = zip(first.sums, second.sums).map { $0 + $1 } },
                                  maximum: { $0 = zip(first.maxima, second.maxima).map { max($0, $1) } })
        let one = whole.summary()
        XCTAssertEqual(flat(whole).sums, zip(first.sums, second.sums).map { $0 + $1 })
        XCTAssertEqual(flat(whole).maxima, zip(first.maxima, second.maxima).map { max($0, $1) })
        XCTAssertEqual(flat(measure(Shard(), chunkSamples: 3)).sums, flat(whole).sums, "another chunk size")
        XCTAssertEqual(split.firingRates.map(\.rate), one.firingRates.map(\.rate))
        XCTAssertEqual(split.membranes.map(\.histogram), one.membranes.map(\.histogram))

        XCTAssertEqual(one.firingRates.map(\.layer), ["features.2", "features.6"])
        let rates = meter.neuronRates(network, totals: meter.fixedSums(network), samples: count, timeSteps: 4)
        for (mine, theirs) in zip(one.firingRates, rates) {
            XCTAssertEqual(mine.rate, theirs.rate, accuracy: 1e-12, mine.layer)
        }
        XCTAssertGreaterThan(one.firingRates[0].rate, 0.01, "the test needs a firing network")
        // m grows with spikes: the first layer's is positive (the fresh model's second layer hardly fires).
        XCTAssertEqual(one.memoryMeans.map(\.layer), ["features.2", "features.6"])
        XCTAssertGreaterThan(one.memoryMeans[0].mean, 0)
        XCTAssertTrue(one.memoryMeans.allSatisfy { $0.mean.isFinite && $0.mean >= 0 })
        // Histograms of the first and last neuron layer over the first sample of each of the 3 batches.
        XCTAssertEqual(one.membranes.map(\.layer), ["features.2", "features.6"])
        let expected: [Int64] = [3 * 4 * 32 * 64, 3 * 4 * 64 * 16]
        XCTAssertEqual(one.membranes.map(\.histogram.count), expected)
    }
}

/// Shows every layer to two observers.
final class ObserverPair: LayerObserver {
    let first: LayerObserver, second: LayerObserver?
    init(_ first: LayerObserver, _ second: LayerObserver?) { self.first = first; self.second = second }
    func observe(_ layer: Layer, input: Tensor, output: Tensor, _ context: StepContext) {
        first.observe(layer, input: input, output: output, context)
        second?.observe(layer, input: input, output: output, context)
    }
}
