import Core
import Foundation

extension Session {
    /// Loads the checkpoint at `path` into `network` (and `optimizer`): rank 0
    /// reads the file and sends its bytes to every rank, so the hosts need no
    /// shared file system. Collective. Returns the training state it records,
    /// nil for a file of weights only.
    public func loadCheckpoint(_ path: String, into network: Network, optimizer: Optimizer?) throws -> TrainingState? {
        var bytes: [UInt8] = []
        var readError = ""
        if isLeader {
            do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                readError = "cannot read checkpoint \(path): \(error.localizedDescription)"
            }
        }
        var failed: [UInt8] = Array(readError.utf8)
        communicator.broadcast(&failed, root: 0)
        guard failed.isEmpty else { throw JobError(String(decoding: failed, as: UTF8.self)) }
        communicator.broadcast(&bytes, root: 0)
        return try Checkpoint.load(Data(bytes), name: path, into: network, optimizer: optimizer)
    }
}
