/// What to build: the original's `-model` name and the data it sees.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var inChannels: Int
    public var classes: Int
    public var height: Int, width: Int
    public var activation: Activation
    public var dropout: Float = 0
    public var seed: UInt64 = 2022
    /// Divides every channel count (1 = the original's widths).
    public var widthDivisor: Int = 1

    public init(name: String, inChannels: Int, classes: Int, height: Int, width: Int,
                activation: Activation, dropout: Float = 0, seed: UInt64 = 2022, widthDivisor: Int = 1) {
        self.name = name; self.inChannels = inChannels; self.classes = classes
        self.height = height; self.width = width; self.activation = activation
        self.dropout = dropout; self.seed = seed; self.widthDivisor = widthDivisor
    }
}

public enum ModelFactory {
    public static let names = [
        "spiking_resnet18", "spiking_resnet34", "spiking_resnet50", "spiking_resnet101", "spiking_resnet152",
        "spiking_vgg11_bn", "spiking_vgg13_bn", "spiking_vgg16_bn", "spiking_vgg19_bn",
        "vggsnn", "spiking_cnn_small",
    ]

    public static func make(_ spec: ModelSpec) throws -> Network {
        let a = spec.activation, d = spec.dropout, s = spec.seed
        if spec.name.hasPrefix("spiking_resnet"), let depth = Int(spec.name.dropFirst("spiking_resnet".count)),
           SpikingResNet.depths[depth] != nil {
            guard spec.height == 32, spec.width == 32 else {
                throw ModelError(description: "-model \(spec.name) needs 32×32 inputs (its AvgPool2d(4) head, as in the original); the data is \(spec.height)×\(spec.width). Use spiking_vgg*_bn or spiking_cnn_small for other sizes.")
            }
            guard 64 % spec.widthDivisor == 0 else {
                throw ModelError(description: "width divisor \(spec.widthDivisor) does not divide 64")
            }
            return SpikingResNet(depth: depth, inChannels: spec.inChannels, classes: spec.classes, activation: a,
                                 dropout: d, baseWidth: 64 / spec.widthDivisor, seed: s)
        }
        if spec.name.hasPrefix("spiking_vgg"), spec.name.hasSuffix("_bn"),
           let depth = Int(spec.name.dropFirst("spiking_vgg".count).dropLast(3)), SpikingVGG.configurations[depth] != nil {
            guard spec.height >= 32, spec.width >= 32 else {
                throw ModelError(description: "-model \(spec.name) needs inputs of at least 32×32 (five 2×2 poolings); the data is \(spec.height)×\(spec.width)")
            }
            return SpikingVGG(depth: depth, inChannels: spec.inChannels, classes: spec.classes, activation: a,
                              dropout: d, widthDivisor: spec.widthDivisor, seed: s)
        }
        switch spec.name {
        case "vggsnn":
            guard spec.height == spec.width, spec.height % 16 == 0 else {
                throw ModelError(description: "-model vggsnn needs square inputs with a side divisible by 16; the data is \(spec.height)×\(spec.width)")
            }
            // The original's factory drops -drop_rate for vggsnn: dropout stays 0.
            return VGGSNN(inChannels: spec.inChannels, classes: spec.classes, inputSize: spec.height, activation: a,
                          dropout: 0, widthDivisor: spec.widthDivisor, seed: s)
        case "spiking_cnn_small":
            return SpikingSmallCNN(inChannels: spec.inChannels, classes: spec.classes, height: spec.height,
                                   width: spec.width, activation: a, dropout: d, seed: s)
        default:
            throw ModelError(description: "unknown -model \(spec.name); expected one of: \(names.joined(separator: ", "))")
        }
    }
}
