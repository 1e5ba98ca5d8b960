import ArgumentParser
import Core
import Distributed
import Foundation

/// Options of every command that runs as an MPI job (train, infer, energy, bench).
struct JobOptions: ParsableArguments {
    @Flag(name: .customLong("allow-heterogeneous"),
          help: "Under mpirun, run even when the ranks' kernels compute different bits (another OpenBLAS kernel, CPU, libm or build: checked at start-up by a fixed probe). The results then depend on which ranks run where and are not those of one process.")
    var allowHeterogeneous = false
}

/// A command's run as a `Session` (this process alone, or one rank of an MPI
/// job started by mpirun), with the session's outcomes as exit statuses: an
/// `ExitCode` thrown by the body ends every rank in order.
enum Job {
    static func run(_ options: JobOptions, _ body: (Communicator) throws -> Void) throws {
        try run(options, session: { try body($0.communicator) })
    }

    static func run(_ options: JobOptions, session body: (Session) throws -> Void) throws {
        do {
            try Session.run(allowHeterogeneous: options.allowHeterogeneous,
                            kernels: { report($0, options, leader: $1.isLeader) }) { session in
                do { try body(session) } catch let exit as ExitCode { throw OrderlyStop(status: exit.rawValue) }
            }
        } catch let stop as OrderlyStop {
            throw ExitCode(stop.status)
        }
    }

    /// What rank 0 says about the kernel probe (`KernelAgreement.report`):
    /// a note on standard output, a refusal on standard error.
    static func report(_ agreement: KernelAgreement, _ options: JobOptions, leader: Bool) {
        guard leader, let said = agreement.report(allowHeterogeneous: options.allowHeterogeneous) else { return }
        if said.isRefusal { FileHandle.standardError.write(Data(said.text.utf8)) } else { print(said.text) }
    }
}
