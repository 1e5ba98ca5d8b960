import ArgumentParser
import Core

// The value types of the commands' flags. A bad value is refused by the
// parser in one line naming the flag and listing the values, which the
// help shows too.

extension Surrogate: ExpressibleByArgument {}
extension FrameSplit: ExpressibleByArgument {}
extension LearningRateSchedule.Kind: ExpressibleByArgument {}
extension BatchNormStatistics: ExpressibleByArgument {}
extension NonFiniteStep: ExpressibleByArgument {}

/// A flag value naming one of `Choice`'s cases in any letter case (`-opt
/// adamw`, `-neuron_model lif`). The text given is kept: runs record it and
/// name their folders with it, as the original does with its flags.
struct AnyCase<Choice: CaseIterable & RawRepresentable<String>>: ExpressibleByArgument, CaseIterable {
    let value: Choice
    /// The text on the command line (or recorded), the case's own name for a default.
    let spelling: String

    init(_ value: Choice) {
        self.value = value
        spelling = value.rawValue
    }

    init?(argument: String) {
        guard let value = Choice(caseInsensitive: argument) else { return nil }
        self.value = value
        spelling = argument
    }

    static var allCases: [AnyCase] { Choice.allCases.map(AnyCase.init) }
    static var allValueStrings: [String] { Choice.allCases.map(\.rawValue) }
    var defaultValueDescription: String { spelling }
}

/// `-neuron_model`: LIF, CLIF, PLIF or relu.
typealias NeuronName = AnyCase<ActivationKind>
/// `-opt`: SGD or AdamW.
typealias OptimizerName = AnyCase<OptimizerKind>

/// `--input CxHxW`: the shape of synthetic images, every size positive.
struct ImageShape: ExpressibleByArgument {
    let channels: Int, height: Int, width: Int

    init(channels: Int, height: Int, width: Int) {
        self.channels = channels; self.height = height; self.width = width
    }

    init?(argument: String) {
        let parts = argument.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let c = parts[0], let h = parts[1], let w = parts[2], c > 0, h > 0, w > 0 else { return nil }
        self.init(channels: c, height: h, width: w)
    }

    var defaultValueDescription: String { "\(channels)x\(height)x\(width)" }
}
