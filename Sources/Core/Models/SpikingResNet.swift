// The original's pre-activation spiking ResNets (PreActResNet of the CLIF
// code), with its state_dict names: conv1, layer{1-4}.{i}.{bn1,conv1,bn2,
// conv2,[bn3,conv3,]shortcut}, bn1, linear; neurons relu1/relu2(/relu3).

/// Basic block: `a = relu1(bn1(x)); h = conv1(a); h = conv2(dropout(relu2(bn2(h))));
/// return h + shortcut(a)` — the shortcut takes the activated `a`. With
/// `bottleneck`, conv1 is 1×1 (strided), conv2 3×3, conv3 the 1×1 expansion ×4.
final class PreActivationBlock: Layer {
    let preActivation: Sequential
    let residual: Sequential
    let shortcut: Conv2d?

    init(_ b: ModelBuilder, inChannels: Int, channels: Int, stride: Int, bottleneck: Bool,
         activation: Activation, dropout: Float) {
        let expansion = bottleneck ? 4 : 1
        preActivation = Sequential([BatchNorm2d(b, "bn1", channels: inChannels), b.activation("relu1", activation)])
        if bottleneck {
            residual = Sequential([
                Conv2d(b, "conv1", inChannels: inChannels, outChannels: channels, kernel: 1, stride: stride),
                BatchNorm2d(b, "bn2", channels: channels), b.activation("relu2", activation),
                Conv2d(b, "conv2", inChannels: channels, outChannels: channels, kernel: 3, padding: 1),
                BatchNorm2d(b, "bn3", channels: channels), b.activation("relu3", activation),
                Dropout(b, "dropout", probability: dropout),
                Conv2d(b, "conv3", inChannels: channels, outChannels: channels * expansion, kernel: 1),
            ])
        } else {
            residual = Sequential([
                Conv2d(b, "conv1", inChannels: inChannels, outChannels: channels, kernel: 3, stride: stride, padding: 1),
                BatchNorm2d(b, "bn2", channels: channels), b.activation("relu2", activation),
                Dropout(b, "dropout", probability: dropout),
                Conv2d(b, "conv2", inChannels: channels, outChannels: channels, kernel: 3, padding: 1),
            ])
        }
        shortcut = (stride != 1 || inChannels != channels * expansion)
            ? Conv2d(b, "shortcut", inChannels: inChannels, outChannels: channels * expansion, kernel: 1, stride: stride)
            : nil
    }

    func forward(_ input: Tensor, _ context: StepContext) -> Tensor {
        let a = context.run(preActivation, input)
        return context.run(residual, a) + (shortcut.map { context.run($0, a) } ?? a)
    }

    func backward(_ gradOutput: Tensor, _ context: StepContext) -> Tensor {
        let viaShortcut = shortcut?.backward(gradOutput, context) ?? gradOutput
        return preActivation.backward(residual.backward(gradOutput, context) + viaShortcut, context)
    }
}

/// `spiking_resnet18/34/50/101/152` of the original (CIFAR stem: 3×3 conv,
/// no max-pool; head `bn1 → relu1 → AvgPool2d(4) → flatten → dropout → linear`,
/// which fits 32×32 inputs only, as in the original).
public final class SpikingResNet: SequentialNetwork {

    /// Blocks per stage of each depth, and whether they are bottlenecks.
    public static let depths: [Int: (blocks: [Int], bottleneck: Bool)] = [
        18: ([2, 2, 2, 2], false), 34: ([3, 4, 6, 3], false),
        50: ([3, 4, 6, 3], true), 101: ([3, 4, 23, 3], true), 152: ([3, 8, 36, 3], true),
    ]

    /// - Parameters:
    ///   - baseWidth: channels of the stem and first stage (64 in the original;
    ///     the stages have 1, 2, 4, 8 times this).
    public init(depth: Int, inChannels: Int = 3, classes: Int = 10, activation: Activation,
                dropout: Float = 0, baseWidth: Int = 64, seed: UInt64 = 2022) {
        guard let (blocks, bottleneck) = Self.depths[depth] else {
            preconditionFailure("SpikingResNet: depth \(depth) is not one of \(Self.depths.keys.sorted())")
        }
        let b = ModelBuilder(seed: seed)
        let expansion = bottleneck ? 4 : 1
        let body = Sequential([Conv2d(b, "conv1", inChannels: inChannels, outChannels: baseWidth, kernel: 3, padding: 1,
                                      bias: false, isInputLayer: true)])
        var channels = baseWidth
        for (stage, count) in blocks.enumerated() {
            let width = baseWidth << stage
            b.scope("layer\(stage + 1)") {
                for i in 0..<count {
                    b.scope("\(i)") {
                        body.append(PreActivationBlock(b, inChannels: channels, channels: width,
                                                       stride: (stage > 0 && i == 0) ? 2 : 1,
                                                       bottleneck: bottleneck, activation: activation, dropout: dropout))
                    }
                    channels = width * expansion
                }
            }
        }
        body.append(BatchNorm2d(b, "bn1", channels: channels))
        body.append(b.activation("relu1", activation))
        body.append(AveragePool(.fixed(kernel: 4)))
        body.append(Flatten())
        body.append(Dropout(b, "drop", probability: dropout))
        body.append(Linear(b, "linear", inFeatures: channels, outFeatures: classes, biasInit: .constant(0)))
        super.init(b, body: body)
    }

    override func checkInput(_ input: Tensor) {
        precondition(input.rank == 5 && input.shape[3] == 32 && input.shape[4] == 32,
                     "spiking_resnet needs 32×32 inputs (its AvgPool2d(4) head), got \(input.shape)")
    }
}
