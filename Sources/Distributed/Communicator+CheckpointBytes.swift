import Core
import Foundation

extension Communicator {
    /// The bytes of the checkpoint at `path`: rank 0 reads the file and
    /// sends them to every rank, so the hosts need no shared file system.
    /// Collective: every rank calls it, and every rank throws when rank 0
    /// cannot read the file.
    /// - Throws: `CheckpointError` naming the file and the cause (`CheckpointedModel.bytes(of:)`).
    public func checkpointBytes(_ path: String) throws -> Data {
        var bytes: [UInt8] = []
        var readError = ""
        if rank == 0 {
            do { bytes = [UInt8](try CheckpointedModel.bytes(of: path)) } catch {
                readError = "\(error)"
            }
        }
        var failed = Array(readError.utf8)
        broadcast(&failed, root: 0)
        guard failed.isEmpty else { throw CheckpointError(description: String(decoding: failed, as: UTF8.self)) }
        broadcast(&bytes, root: 0)
        return Data(bytes)
    }
}
