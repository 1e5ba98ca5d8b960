import ArgumentParser
import Core

@main
struct CLIFMPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clif-mpi",
        abstract: "Train spiking neural networks with CLIF neurons on CPUs, across MPI ranks.",
        subcommands: [])
}
