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

    /// What rank 0 says about the kernel probe: a note when the ranks run
    /// other OpenBLAS kernels or (with --allow-heterogeneous) compute other
    /// bits; the refusal, on standard error, when they compute other bits.
    static func report(_ agreement: KernelAgreement, _ options: JobOptions, leader: Bool) {
        guard leader else { return }
        switch agreement {
        case .identical:
            break
        case .sameBitsOtherKernels(let cores):
            print("note: the ranks run different OpenBLAS kernels (\(cores.joined(separator: ", "))) that compute the same bits on the kernel probe; the probe covers common shapes only, so check a short run against one process")
        case .differentBits(let summary) where options.allowHeterogeneous:
            print("note: \(summary) compute different bits (OpenBLAS kernel, CPU, libm or build differ); with --allow-heterogeneous this run goes on, and its results depend on which ranks run where: they are not those of one process")
        case .differentBits(let summary):
            FileHandle.standardError.write(Data("""
                Error: \(summary) compute different bits (OpenBLAS kernel, CPU, libm or build differ), \
                so this job would not give the same bits as one process. Run every rank on hosts of one kind with \
                the same clif-mpi binary and libraries (a DYNAMIC_ARCH OpenBLAS takes one kernel everywhere with \
                OPENBLAS_CORETYPE set to a core every host supports, e.g. Haswell), or pass --allow-heterogeneous \
                to run anyway.

                """.utf8))
        }
    }
}
