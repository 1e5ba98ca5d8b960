import Foundation

extension Checkpoint {
    /// Writes `data` to `url` atomically: a temporary file in the same folder,
    /// written in full and flushed to disk (`fsync`), then renamed over the
    /// target, and the folder flushed so the rename survives a power cut.
    ///
    /// Any failure — a full disk (`ENOSPC`) or a quota (`EDQUOT`) on `write` or
    /// `fsync`, an I/O error, a folder that vanished — throws a
    /// `CheckpointError` naming the file and the system's reason, deletes the
    /// temporary file and leaves the previous `url` untouched: a reader sees
    /// either the old checkpoint or the new one, never a truncated file.
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        func fail(_ what: String, _ code: Int32) -> CheckpointError {
            var reason = String(cString: strerror(code))
            if code == ENOSPC || code == EDQUOT {
                reason += " — free space on \(folder.path) (the checkpoint is \(data.count) bytes); the previous checkpoint there is kept"
            }
            return CheckpointError(description: "cannot write checkpoint \(url.path): \(what): \(reason)")
        }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw fail("creating \(temporary.lastPathComponent)", errno) }
        var written = 0
        var failure: CheckpointError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            while written < raw.count {
                let count = write(descriptor, raw.baseAddress! + written, min(raw.count - written, 1 << 30))
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = fail("wrote \(written) of \(raw.count) bytes", errno)
                    return
                }
                written += count
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = fail("flushing to disk (fsync)", errno) }
        if close(descriptor) != 0, failure == nil { failure = fail("closing the file", errno) }
        if failure == nil, rename(temporary.path, url.path) != 0 {
            failure = fail("renaming \(temporary.lastPathComponent) over it", errno)
        }
        if let failure {
            unlink(temporary.path)
            throw failure
        }
        // The rename is durable once the folder's entry is on disk; a failure
        // here cannot leave a partial file, so it is not an error.
        let folderDescriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
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
