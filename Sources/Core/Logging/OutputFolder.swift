import Foundation

/// The run folder under `-out_dir`, checked before any data is loaded or any
/// step computed: a run that could not save its checkpoints fails at once,
/// naming the folder, rather than after an epoch of training.
public struct OutputFolder {
    public let url: URL
    /// The `-out_dir` value as the user typed it, for messages.
    public let flagValue: String

    public init(url: URL, flagValue: String) {
        self.url = url
        self.flagValue = flagValue
    }

    /// Creates the folder (and its parents) and proves it writable by
    /// creating, writing and deleting a probe file — `access(W_OK)` alone
    /// says yes to root on a read-only mount or a full disk.
    public func prepare() throws {
        // mkdir -p by hand: Foundation's errors do not say why (ENOTDIR, EROFS, EACCES).
        var path = url.path.hasPrefix("/") ? "" : "."
        for component in url.path.split(separator: "/") {
            path += "/" + component
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { continue }
            guard mkdir(path, 0o755) == 0 || errno == EEXIST && stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR else {
                let cause = errno == EEXIST ? "it exists and is not a folder" : String(cString: strerror(errno))
                throw LoggingError("-out_dir \(flagValue): cannot create the run folder \(url.path): \(path): \(cause). Pass an -out_dir you can write to")
            }
        }
        let probe = url.appendingPathComponent(".clif-mpi-write-test-\(getpid())")
        let descriptor = open(probe.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LoggingError("-out_dir \(flagValue): cannot write in \(url.path): \(String(cString: strerror(errno))). Pass an -out_dir you can write to")
        }
        let byte: UInt8 = 0
        let wrote = withUnsafeBytes(of: byte) { write(descriptor, $0.baseAddress, 1) }
        let code = errno
        close(descriptor)
        unlink(probe.path)
        guard wrote == 1 else {
            throw LoggingError("-out_dir \(flagValue): cannot write in \(url.path): \(String(cString: strerror(code))). Free space there or pass another -out_dir")
        }
    }

    /// Fails when the file system holding the folder has less free space
    /// than the checkpoints need: `checkpoint_latest` and `checkpoint_max`,
    /// plus one temporary copy while either is replaced, minus the space of
    /// the copies already there (a resumed run replaces them).
    public func checkSpace(checkpointBytes: Int) throws {
        var info = statvfs()
        guard statvfs(url.path, &info) == 0 else { return }  // unknown: the writes themselves will tell
        let available = Int(info.f_bavail) &* Int(info.f_frsize)
        let existing = ["checkpoint_latest.safetensors", "checkpoint_max.safetensors"].reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: url.appendingPathComponent(name).path))?[.size]
            return total + ((size as? NSNumber)?.intValue ?? 0)
        }
        let needed = max(0, 3 * checkpointBytes - existing)
        guard available >= needed else {
            throw LoggingError("-out_dir \(flagValue): \(url.path) has \(megabytes(available)) free, but the checkpoints of this model need \(megabytes(needed)) (checkpoint_latest and checkpoint_max of up to \(megabytes(checkpointBytes)) each, plus a temporary copy while one is replaced). Free space there or pass another -out_dir")
        }
    }

    /// Writes `text` as the folder's args.txt, or appends it to the file.
    public func writeArguments(_ text: String, append: Bool = false) throws {
        let file = url.appendingPathComponent("args.txt")
        do {
            if append {
                let handle = try FileHandle(forWritingTo: file)
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(text.utf8))
            } else {
                try text.write(to: file, atomically: true, encoding: .utf8)
            }
        } catch {
            throw LoggingError("-out_dir \(flagValue): cannot write args.txt in \(url.path): \(error.localizedDescription)")
        }
    }

    private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
}
