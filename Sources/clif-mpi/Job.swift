import ArgumentParser
import Distributed
import Foundation

/// Runs a command on this process alone, or as one rank of an MPI job when
/// started by mpirun. A failure on any rank prints its rank and cause and
/// stops the whole job (MPI_Abort), so no rank waits forever on a dead peer.
enum Job {
    static func run(_ body: (Communicator) throws -> Void) throws {
        let mpi = MPICommunicator.launchedByMPI ? MPICommunicator() : nil
        let communicator: Communicator = mpi ?? SingleProcess()
        do {
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
}
