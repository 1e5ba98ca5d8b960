import ArgumentParser
import Core

@main
struct CLIFMPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clif-mpi",
        abstract: "Train spiking neural networks with CLIF neurons on CPUs, across MPI ranks.",
        discussion: """
        Reproduces the training recipe of "CLIF: Complementary Leaky Integrate-and-Fire \
        Neuron for Spiking Neural Networks" (ICML 2024) in fp32 on CPUs. The original's \
        single-dash flags work as they are (for example `clif-mpi train -dataset cifar10 \
        -model spiking_resnet18 -neuron CLIF`).
        """,
        subcommands: [Train.self, Infer.self, Energy.self, Convert.self, ExportNIR.self, Bench.self, ReductionCheck.self])

    /// The original's argparse accepts `-flag=value`; split it so the parser sees `-flag value`.
    static func normalisedArguments(_ arguments: [String]) -> [String] {
        arguments.flatMap { argument -> [String] in
            guard argument.hasPrefix("-"), !argument.hasPrefix("--"), let eq = argument.firstIndex(of: "=") else {
                return [argument]
            }
            return [String(argument[..<eq]), String(argument[argument.index(after: eq)...])]
        }
    }

    static func main() {
        let arguments = normalisedArguments(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
