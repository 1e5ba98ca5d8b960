import Core
import Foundation

/// The engine's entry point: this process alone, or one rank of an MPI job
/// when started by mpirun. `Session.run` builds the communicator, checks
/// that every rank computes the same bits, runs the body and ends the job;
/// the session hands the body its worker threads, reducer and shard.
public final class Session {
    public let communicator: Communicator

    init(_ communicator: Communicator) { self.communicator = communicator }

    public var rank: Int { communicator.rank }
    public var size: Int { communicator.size }
    /// Rank 0, the one that prints and writes the run's files.
    public var isLeader: Bool { communicator.rank == 0 }
    /// The part of every global batch this rank computes.
    public var shard: Shard { Shard(rank: communicator.rank, size: communicator.size) }

    /// The batch reducer of a run (see `Communicator.makeReducer`). Collective:
    /// every rank calls it at the same point.
    public func makeReducer() -> MeteredReducer { communicator.makeReducer() }

    /// Sets the worker threads of this process: `threads`, or the cores its
    /// CPU affinity allows. Results do not depend on it.
    public func configureWorkers(_ threads: Int?) {
        Parallel.configure(workers: threads ?? Parallel.availableCores)
    }

    /// Runs `body` on this process alone, or as one rank of an MPI job when
    /// started by mpirun. `kernels` hears, on every rank, how the ranks'
    /// kernel probes compared (`KernelAgreement.check`) before anything else
    /// runs; ranks that compute different bits end the job with status 1
    /// (an `OrderlyStop`) unless `allowHeterogeneous`. A body that throws an
    /// `OrderlyStop` ends the job in order on every rank; any other failure
    /// on a rank of several prints its rank and cause and stops the whole job
    /// (MPI_Abort), so no rank waits forever on a dead peer.
    public static func run(allowHeterogeneous: Bool, kernels: (KernelAgreement, Session) -> Void,
                           _ body: (Session) throws -> Void) throws {
        let mpi = MPICommunicator.launchedByMPI ? MPICommunicator() : nil
        let session = Session(mpi ?? SingleProcess())
        do {
            let agreement = KernelAgreement.check(session.communicator)
            kernels(agreement, session)
            if case .differentBits = agreement, !allowHeterogeneous { throw OrderlyStop(status: 1) }
            try body(session)
        } catch let stop as OrderlyStop {
            mpi?.finalize()
            throw stop
        } catch {
            if session.size > 1 {
                FileHandle.standardError.write(Data("Error on rank \(session.rank) of \(session.size): \(error)\n".utf8))
                session.communicator.abort(code: 1)
            }
            mpi?.finalize()
            throw error
        }
        mpi?.finalize()
    }
}

/// A stop every rank agreed on (a refused start, a stop signal): the job
/// ends with `status` and no abort.
public struct OrderlyStop: Error, Equatable {
    public let status: Int32
    public init(status: Int32) { self.status = status }
}

/// How the ranks' kernel probes compare: every rank runs `KernelProbe` and
/// the ranks compare fingerprints, before anything is read or written.
public enum KernelAgreement: Equatable {
    /// One process, or ranks on the same OpenBLAS kernel that agree.
    case identical
    /// The ranks agree on the probe's bits but run these OpenBLAS kernels.
    case sameBitsOtherKernels([String])
    /// Ranks compute different bits; `summary` names them by host and group.
    case differentBits(summary: String)

    /// Collective: every rank calls it. `CLIF_MPI_PERTURB_PROBE` (see
    /// `ProbePerturbation`) makes chosen ranks compute other bits, for tests.
    public static func check(_ communicator: Communicator) -> KernelAgreement {
        guard communicator.size > 1 else { return .identical }
        let perturbed = ProbePerturbation.fromEnvironment().contains(communicator.rank)
        let placement = Placement.gather(communicator,
                                         fingerprint: KernelProbe.fingerprint(seed: KernelProbe.seed &+ (perturbed ? 1 : 0)))
        guard placement.computesSameBits else { return .differentBits(summary: placement.summary) }
        return placement.blasCores.count > 1 ? .sameBitsOtherKernels(placement.blasCores) : .identical
    }
}

/// A test hook: `CLIF_MPI_PERTURB_PROBE=<rank>[,<rank>…]` makes those ranks compute the kernel
/// probe on other inputs, as ranks on a CPU with other kernels would compute other bits.
public enum ProbePerturbation {
    public static func fromEnvironment() -> Set<Int> {
        guard let value = ProcessInfo.processInfo.environment["CLIF_MPI_PERTURB_PROBE"] else { return [] }
        return Set(value.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
    }
}
