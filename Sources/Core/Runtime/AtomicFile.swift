import Foundation

/// Files written whole or not at all.
public enum AtomicFile {
    /// Why a file could not be written: names the file and the system's reason.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `data` to `url` atomically: a temporary file in the same folder,
    /// written in full and flushed to disk (`fsync`), then renamed over the
    /// target, and the folder flushed so the rename survives a power cut.
    ///
    /// Any failure — a folder that does not exist or cannot be written, a
    /// full disk (`ENOSPC`) or a quota (`EDQUOT`) on `write` or `fsync`, an
    /// I/O error — throws a `Failure` naming the file (`what` says what it
    /// is: "checkpoint", "plot") and the system's reason, deletes the
    /// temporary file and leaves the previous `url` untouched: a reader sees
    /// either the old file or the new one, never a truncated file.
    public static func write(_ data: Data, to url: URL, what: String) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        func fail(_ step: String, _ code: Int32) -> Failure {
            var reason = String(cString: strerror(code))
            if code == ENOSPC || code == EDQUOT {
                reason += " — free space on \(folder.path) (the \(what) is \(data.count) bytes); the previous \(what) there is kept"
            }
            return Failure(description: "cannot write \(what) \(url.path): \(step): \(reason)")
        }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw fail("creating \(temporary.lastPathComponent)", errno) }
        var written = 0
        var failure: Failure?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            while written < raw.count {
                let count = Glibc.write(descriptor, raw.baseAddress! + written, min(raw.count - written, 1 << 30))
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
