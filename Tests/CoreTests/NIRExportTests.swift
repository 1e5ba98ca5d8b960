import XCTest
@testable import Core

/// The NIR export of each model kind, run by a plain NIR simulator
/// (`NIRSimulator`, NIR's equations by forward Euler) against clif-mpi's own
/// forward: the last spiking layer's spikes and the logits of every step.
final class NIRExportTests: XCTestCase {
    let dt: Float = 1e-4
    let lif = Activation.spiking(NeuronConfig(model: .lif, surrogate: .rectangle, tau: 2, vReset: 0))

    /// Trained-looking parameters: BatchNorm with non-trivial statistics, so that folding is exercised.
    func randomise(_ network: Network, seed: UInt64) {
        var stream = RandomStream(seed: seed)
        func visit(_ layer: Layer) {
            switch layer {
            case let sequence as Sequential: sequence.layers.forEach(visit)
            case let block as PreActivationBlock:
                visit(block.preActivation); visit(block.residual); block.shortcut.map(visit)
            case let norm as BatchNorm2d:
                for c in 0..<norm.channels {
                    network.parameters.values[norm.weight.offset + c] = stream.uniform(0.5, 2)
                    network.parameters.values[norm.bias.offset + c] = stream.uniform(-0.2, 0.6)
                    network.buffers.values[norm.runningMean.offset + c] = stream.uniform(-0.3, 0.3)
                    network.buffers.values[norm.runningVar.offset + c] = stream.uniform(0.5, 2)
                }
            case let conv as Conv2d:
                if let bias = conv.bias { for i in bias.range { network.parameters.values[i] = stream.uniform(-0.1, 0.1) } }
            default: break
            }
        }
        visit((network as! SequentialNetwork).body)
    }

    /// Exports `network`, simulates the graph on `images` and compares with clif-mpi's forward.
    /// Returns the graph and the fraction of the last layer's spikes that differ.
    @discardableResult
    func compare(_ network: Network, images: Tensor, timeSteps: Int, _ what: String) throws -> NIRGraph {
        let reference = try NIRReference.record(network, images: images, labels: [Int](repeating: 0, count: images.shape[0]),
                                                timeSteps: timeSteps)
        let graph = try NIRGraph.export(network, inputShape: Array(images.shape.dropFirst()), dt: dt)
        let simulator = NIRSimulator(graph: graph, dt: dt)
        let n = images.shape[0], pixels = images.count / n
        let width = reference.spikes.count / (timeSteps * n), classes = reference.logits.count / (timeSteps * n)
        var differing = 0, fired = 0, logitError: Float = 0, logitScale: Float = 0
        for sample in 0..<n {
            let steps = simulator.run(image: Array(images.data[(sample * pixels)..<((sample + 1) * pixels)]), steps: timeSteps)
            for t in 0..<timeSteps {
                let spikes = try XCTUnwrap(steps[t][reference.lastNeuron], "\(what): no node \(reference.lastNeuron)")
                let logits = try XCTUnwrap(steps[t]["output"])
                for j in 0..<width {
                    let expected = reference.spikes.data[(t * n + sample) * width + j]
                    fired += Int(expected)
                    if spikes[j] != expected { differing += 1 }
                }
                for j in 0..<classes {
                    let expected = reference.logits.data[(t * n + sample) * classes + j]
                    logitError = max(logitError, abs(logits[j] - expected)); logitScale = max(logitScale, abs(expected))
                }
            }
        }
        let total = timeSteps * n * width
        // The spikes must be a real signal, not all silent or all firing, for the comparison to mean something.
        XCTAssertGreaterThan(fired, total / 50, "\(what): the last layer fired \(fired) of \(total)")
        XCTAssertLessThan(fired, total * 49 / 50, "\(what): the last layer fired \(fired) of \(total)")
        // Folding and Euler round differently from conv→BN and v·(1-k)+x, so a membrane that lands
        // within an ulp of the threshold may fire on one side only. Measured: 0 of each total here.
        XCTAssertLessThanOrEqual(differing, total / 1000, "\(what): \(differing) of \(total) last-layer spikes differ")
        XCTAssertLessThanOrEqual(logitError, 1e-4 * max(logitScale, 1), "\(what): logits differ by \(logitError)")
        print("\(what): \(differing) of \(total) last-layer spikes differ (\(fired) fired), max logit difference \(logitError)")
        return graph
    }

    func images(_ shape: [Int], seed: UInt64) -> Tensor {
        var stream = RandomStream(seed: seed)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in stream.uniform(-1, 2) })
    }

    func testSmallCNNGraphMatchesClifMpi() throws {
        let network = SpikingSmallCNN(inChannels: 1, classes: 10, height: 8, width: 8, activation: lif)
        randomise(network, seed: 1)
        let graph = try compare(network, images: images([4, 1, 8, 8], seed: 2), timeSteps: 4, "spiking_cnn_small")
        XCTAssertEqual(graph.nodes.map { "\($0.name):\($0.node.typeName)" },
                       ["input:Input", "features.0:Conv2d", "features.2:LIF", "pool1:AvgPool2d", "features.4:Conv2d",
                        "features.6:LIF", "pool2:AvgPool2d", "flatten:Flatten", "classifier:Affine", "output:Output"])
        XCTAssertEqual(graph.edges.map { "\($0.from)→\($0.to)" },
                       ["input→features.0", "features.0→features.2", "features.2→pool1", "pool1→features.4",
                        "features.4→features.6", "features.6→pool2", "pool2→flatten", "flatten→classifier",
                        "classifier→output"])
        guard case let .lif(p, shape) = graph.node("features.2") else { return XCTFail("features.2 is not LIF") }
        XCTAssertEqual(shape, [32, 8, 8])
        XCTAssertEqual(p, NIRGraph.LIFParameters(tau: 2e-4, r: 2, vLeak: 0, vThreshold: Float(1).nextDown, vReset: 0))
    }

    func testResNetResidualAdditionsMatchClifMpi() throws {
        let network = SpikingResNet(depth: 18, inChannels: 3, classes: 10, activation: lif, baseWidth: 4)
        randomise(network, seed: 3)
        let graph = try compare(network, images: images([2, 3, 32, 32], seed: 4), timeSteps: 3, "spiking_resnet18/16")
        // Identity shortcuts (of layer1.0, layer1.1, layer2.1, layer3.1, layer4.1) pass through the next
        // BatchNorm's scale as a 1×1 convolution.
        let identities = graph.nodes.filter { $0.name.hasSuffix(".identity") }
        XCTAssertEqual(identities.map(\.name), ["layer1.1.bn1.identity", "layer2.0.bn1.identity", "layer3.0.bn1.identity",
                                                "layer4.0.bn1.identity", "bn1.identity"])
        XCTAssertTrue(identities.allSatisfy { $0.node.typeName == "Conv2d" })
        // Every block's sum reaches the next neuron as two incoming edges.
        let summed = Set(graph.edges.map(\.to)).filter { to in graph.edges.filter { $0.to == to }.count == 2 }
        XCTAssertEqual(summed.sorted(), ["layer1.1.relu1", "layer2.0.relu1", "layer2.1.relu1", "layer3.0.relu1",
                                         "layer3.1.relu1", "layer4.0.relu1", "layer4.1.relu1", "relu1"])
        XCTAssertEqual(graph.nodes.filter { $0.node.typeName == "LIF" }.count, network.neurons.count)
    }

    func testVGGAdaptivePoolFoldsIntoClassifier() throws {
        let network = SpikingVGG(depth: 11, inChannels: 3, classes: 10, activation: lif, widthDivisor: 32)
        randomise(network, seed: 5)
        let graph = try compare(network, images: images([2, 3, 32, 32], seed: 6), timeSteps: 3, "spiking_vgg11_bn/32")
        // Five 2×2 pools to 1×1; the adaptive pool to 7×7 is folded: the classifier takes the 16 channels.
        XCTAssertEqual(graph.nodes.filter { $0.node.typeName == "AvgPool2d" }.count, 5)
        guard case let .affine(_, outFeatures, inFeatures, _) = graph.node("classifier.1") else {
            return XCTFail("classifier.1 is not Affine")
        }
        XCTAssertEqual([outFeatures, inFeatures], [10, 16])
    }

    func testUnexpressibleLayersAreRefusedByName() {
        func refusal(_ activation: Activation) -> String {
            let network = SpikingSmallCNN(inChannels: 1, classes: 10, height: 8, width: 8, activation: activation)
            do { _ = try NIRGraph.export(network, inputShape: [1, 8, 8]); return "exported" } catch {
                return "\(error)"
            }
        }
        let clif = refusal(.spiking(NeuronConfig(model: .clif, surrogate: .rectangle, vReset: 0)))
        XCTAssertTrue(clif.hasPrefix("layer features.2: CLIF's complementary memory"), clif)
        let soft = refusal(.spiking(NeuronConfig(model: .lif, surrogate: .rectangle)))
        XCTAssertTrue(soft.hasPrefix("layer features.2: the soft reset"), soft)
        XCTAssertTrue(refusal(.relu).contains("ReLU"))
    }
}
