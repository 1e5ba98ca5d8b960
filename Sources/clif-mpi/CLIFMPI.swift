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

    static func main() {
        do {
            let arguments = try CommandLineNormalisation.normalised(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
