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

/// Runs a command on this process alone, or as one rank of an MPI job when
/// started by mpirun. A failure on any rank prints its rank and cause and
/// stops the whole job (MPI_Abort), so no rank waits forever on a dead peer.
enum Job {
    static func run(_ options: JobOptions, _ body: (Communicator) throws -> Void) throws {
        let mpi = MPICommunicator.launchedByMPI ? MPICommunicator() : nil
        let communicator: Communicator = mpi ?? SingleProcess()
        do {
            try checkKernels(communicator, options)
            try body(communicator)
        } catch let exit as ExitCode {
            // An orderly stop every rank agreed on: no abort.
            mpi?.finalize()
            throw exit
        } catch {
            if communicator.size > 1 {
                FileHandle.standardError.write(Data("Error on rank \(communicator.rank) of \(communicator.size): \(error)\n".utf8))
                communicator.abort(code: 1)
            }
            mpi?.finalize()
            throw error
        }
        mpi?.finalize()
    }

    /// Every rank runs `KernelProbe` and the ranks compare fingerprints. Ranks that compute
    /// different bits stop the job on every rank, before anything is read or written, with
    /// one message from rank 0 — unless `--allow-heterogeneous`, which prints a note instead.
    static func checkKernels(_ communicator: Communicator, _ options: JobOptions) throws {
        guard communicator.size > 1 else { return }
        let perturbed = ProbePerturbation.fromEnvironment().contains(communicator.rank)
        let placement = Placement.gather(communicator,
                                         fingerprint: KernelProbe.fingerprint(seed: KernelProbe.seed &+ (perturbed ? 1 : 0)))
        let leader = communicator.rank == 0
        guard !placement.computesSameBits else {
            if leader && placement.blasCores.count > 1 {
                print("note: the ranks run different OpenBLAS kernels (\(placement.blasCores.joined(separator: ", "))) that compute the same bits on the kernel probe; the probe covers common shapes only, so check a short run against one process")
            }
            return
        }
        if options.allowHeterogeneous {
            if leader {
                print("note: \(placement.summary) compute different bits (OpenBLAS kernel, CPU, libm or build differ); with --allow-heterogeneous this run goes on, and its results depend on which ranks run where: they are not those of one process")
            }
            return
        }
        if leader {
            FileHandle.standardError.write(Data("""
                Error: \(placement.summary) compute different bits (OpenBLAS kernel, CPU, libm or build differ), \
                so this job would not give the same bits as one process. Run every rank on hosts of one kind with \
                the same clif-mpi binary and libraries (a DYNAMIC_ARCH OpenBLAS takes one kernel everywhere with \
                OPENBLAS_CORETYPE set to a core every host supports, e.g. Haswell), or pass --allow-heterogeneous \
                to run anyway.

                """.utf8))
        }
        throw ExitCode.failure
    }
}

/// A test hook: `CLIF_MPI_PERTURB_PROBE=<rank>[,<rank>…]` makes those ranks compute the kernel
/// probe on other inputs, as ranks on a CPU with other kernels would compute other bits.
enum ProbePerturbation {
    static func fromEnvironment() -> Set<Int> {
        guard let value = ProcessInfo.processInfo.environment["CLIF_MPI_PERTURB_PROBE"] else { return [] }
        return Set(value.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
    }
}
