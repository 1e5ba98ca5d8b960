// The original's spiking VGGs with BatchNorm (SpikingVGGBN) and the DVS
// `vggsnn` (VGGSNN), with their state_dict names.

/// `spiking_vgg11_bn/13_bn/16_bn/19_bn`: five stages `layer1…layer5`, each
/// `[conv3×3 → BN → neuron → dropout]×k → AvgPool2d(2)` (names
/// `layerS.{4i}` conv, `.{4i+1}` BN, `.{4i+2}` neuron, `.{4i+3}` dropout), then
/// AdaptiveAvgPool2d(7, 7) → flatten → `classifier.1` Linear(512·49, classes).
/// Init: convs Kaiming-normal fan_out with bias 0; BN 1/0; Linear N(0, 0.01), bias 0.
public final class SpikingVGG: SequentialNetwork {

    /// Output channels of the convolutions of each stage.
    public static let configurations: [Int: [[Int]]] = [
        11: [[64], [128], [256, 256], [512, 512], [512, 512]],
        13: [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
        16: [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
        19: [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
    ]

    /// - Parameter widthDivisor: divides every channel count (1 in the original;
    ///   the golden fixtures use reduced widths).
    public init(depth: Int, inChannels: Int = 3, classes: Int = 10, activation: Activation,
                dropout: Float = 0, widthDivisor: Int = 1, seed: UInt64 = 2022) {
        guard let stages = Self.configurations[depth] else {
            preconditionFailure("SpikingVGG: depth \(depth) is not one of \(Self.configurations.keys.sorted())")
        }
        let b = ModelBuilder(seed: seed)
        let body = Sequential()
        var channels = inChannels
        for (s, widths) in stages.enumerated() {
            b.scope("layer\(s + 1)") {
                for (i, fullWidth) in widths.enumerated() {
                    let width = fullWidth / widthDivisor
                    body.append(Conv2d(b, "\(4 * i)", inChannels: channels, outChannels: width, kernel: 3, padding: 1,
                                       biasInit: .constant(0), isInputLayer: s == 0 && i == 0))
                    body.append(BatchNorm2d(b, "\(4 * i + 1)", channels: width))
                    body.append(b.activation("\(4 * i + 2)", activation))
                    body.append(Dropout(b, "\(4 * i + 3)", probability: dropout))
                    channels = width
                }
            }
            body.append(AveragePool(.fixed(kernel: 2)))
        }
        body.append(AveragePool(.adaptive(output: 7)))
        body.append(Flatten())
        b.scope("classifier") {
            body.append(Linear(b, "1", inFeatures: channels * 49, outFeatures: classes,
                               weightInit: .normal(std: 0.01), biasInit: .constant(0)))
        }
        super.init(b, body: body)
    }

    override func checkInput(_ input: Tensor) {
        precondition(input.rank == 5 && input.shape[3] >= 32 && input.shape[4] >= 32,
                     "spiking_vgg needs inputs of at least 32×32 (five 2×2 poolings), got \(input.shape)")
    }
}

/// `vggsnn` for DVS data: `features.{i}` = `Layer(conv3×3 + BN as fwd.0/fwd.1,
/// neuron as act)` for channels 64, 128, pool, 256, 256, pool, 512, 512, pool,
/// 512, 512, pool (pools at indices 2, 5, 8, 11), then flatten → dropout →
/// `classifier` Linear(512·(H/16)·(W/16), classes). Init: conv weights
/// Kaiming-normal fan_out, everything else PyTorch's defaults.
///
/// The original's `vggsnn` factory hands the dropout rate to the class under
/// a name it does not read, so its dropout is always 0; `ModelFactory`
/// follows that and builds `vggsnn` with dropout 0 whatever `-drop_rate` says.
public final class VGGSNN: SequentialNetwork {
    public let inputSize: Int

    public init(inChannels: Int = 2, classes: Int = 10, inputSize: Int = 48, activation: Activation,
                dropout: Float = 0, widthDivisor: Int = 1, seed: UInt64 = 2022) {
        precondition(inputSize % 16 == 0, "vggsnn: input side \(inputSize) must be a multiple of 16")
        self.inputSize = inputSize
        let b = ModelBuilder(seed: seed)
        let body = Sequential()
        let plan: [Int?] = [64, 128, nil, 256, 256, nil, 512, 512, nil, 512, 512, nil]
        var channels = inChannels
        b.scope("features") {
            for (i, item) in plan.enumerated() {
                guard let full = item else { body.append(AveragePool(.fixed(kernel: 2))); continue }
                let width = full / widthDivisor
                b.scope("\(i)") {
                    b.scope("fwd") {
                        body.append(Conv2d(b, "0", inChannels: channels, outChannels: width, kernel: 3, padding: 1,
                                           isInputLayer: i == 0))
                        body.append(BatchNorm2d(b, "1", channels: width))
                    }
                    body.append(b.activation("act", activation))
                }
                channels = width
            }
        }
        body.append(Flatten())
        body.append(Dropout(b, "drop", probability: dropout))
        let side = inputSize / 16
        body.append(Linear(b, "classifier", inFeatures: channels * side * side, outFeatures: classes))
        super.init(b, body: body)
    }

    override func checkInput(_ input: Tensor) {
        precondition(input.rank == 5 && input.shape[3] == inputSize && input.shape[4] == inputSize,
                     "vggsnn was built for \(inputSize)×\(inputSize) inputs, got \(input.shape)")
    }
}

/// `spiking_cnn_small`: clif-mpi's own small model for 8×8 digits and 28×28
/// (Fashion-)MNIST — `features` = conv3×3(c→32) · BN · neuron · AvgPool2d(2) ·
/// conv3×3(32→64) · BN · neuron · AvgPool2d(2) (indices 0…7), then flatten →
/// dropout → `classifier` Linear(64·(H/4)·(W/4), classes). PyTorch equivalent:
/// `nn.Sequential` of those modules; init as the VGGs (Kaiming-normal fan_out
/// convs with PyTorch-default biases, default Linear).
public final class SpikingSmallCNN: SequentialNetwork {

    public init(inChannels: Int = 1, classes: Int = 10, height: Int, width: Int, activation: Activation,
                dropout: Float = 0, seed: UInt64 = 2022) {
        precondition(height >= 4 && width >= 4, "spiking_cnn_small needs inputs of at least 4×4, got \(height)×\(width)")
        let b = ModelBuilder(seed: seed)
        let body = Sequential()
        b.scope("features") {
            body.append(Conv2d(b, "0", inChannels: inChannels, outChannels: 32, kernel: 3, padding: 1, isInputLayer: true))
            body.append(BatchNorm2d(b, "1", channels: 32))
            body.append(b.activation("2", activation))
            body.append(AveragePool(.fixed(kernel: 2)))
            body.append(Conv2d(b, "4", inChannels: 32, outChannels: 64, kernel: 3, padding: 1))
            body.append(BatchNorm2d(b, "5", channels: 64))
            body.append(b.activation("6", activation))
            body.append(AveragePool(.fixed(kernel: 2)))
        }
        body.append(Flatten())
        body.append(Dropout(b, "drop", probability: dropout))
        body.append(Linear(b, "classifier", inFeatures: 64 * (height / 4) * (width / 4), outFeatures: classes))
        super.init(b, body: body)
    }

}
