import Foundation

extension Checkpoint {
    /// Writes `data` to `url` atomically (`AtomicFile.write`): a reader sees
    /// either the old checkpoint or the new one, never a truncated file; a
    /// failure throws a `CheckpointError` naming the file and the reason.
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        do { try AtomicFile.write(data, to: url, what: "checkpoint") } catch let error as AtomicFile.Failure {
            throw CheckpointError(description: error.description)
        }
    }
}

extension Checkpoint {
    /// An upper bound of the size `encode` gives for `network` with an
    /// optimiser holding `optimizerBuffers` parameter-sized buffers (SGD 1,
    /// AdamW 2), without encoding it: 4 bytes per parameter value and
    /// optimiser value, 8 per buffer value (int64 at most), 256 header bytes
    /// per tensor and 64 KiB of metadata (the arguments).
    public static func estimatedBytes(network: Network, optimizerBuffers: Int) -> Int {
        let parameters = network.parameters, buffers = network.buffers
        let tensors = parameters.entries.count * (1 + optimizerBuffers) + buffers.entries.count
        return 4 * parameters.count * (1 + optimizerBuffers) + 8 * buffers.count + 256 * tensors + 65_536
    }
}
