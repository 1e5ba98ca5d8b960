import Core
import Distributed
import Foundation

/// Loads a checkpoint into `network` (and `optimizer`): rank 0 reads the
/// file and sends its bytes to every rank, so the hosts need no shared file
/// system.
func loadCheckpoint(_ path: String, into network: Network, optimizer: Optimizer?,
                    _ communicator: Communicator) throws -> TrainingState? {
    try Checkpoint.load(communicator.checkpointBytes(path), name: path, into: network, optimizer: optimizer)
}
