import CZlib
import Foundation

// Legend: N samples, T frames, C channels, H×W frame.

/// The on-disk cache of integrated frames, one file per split, so the event
/// files are parsed only on the first run (like spikingjelly's
/// `frames_number_T_split_by_number` folders).
///
/// Format version 1, little-endian:
/// ```
/// 0   8 bytes  magic "CLIFFRM\n"
/// 8   u32      format version (1)
/// 12  u32 × 7  T, C, H, W, N, classes, split (0 number, 1 time)
/// 40  u64      fingerprint of the sources (FNV-1a of the dataset name, T,
///              split, frame size and each event file's path, size and mtime)
/// 48  u32      CRC-32 of every byte after the 64-byte header
/// 52  12 bytes zero
/// 64  u32 × N  labels
/// …   f32 × N·T·C·H·W  frames [N, T, C, H, W]
/// ```
/// A file whose magic, version, shape or size is wrong, whose CRC fails, or
/// whose fingerprint differs from the current event files is rebuilt.
public enum FrameCache {
    static let magic = Array("CLIFFRM\n".utf8)
    public static let formatVersion: UInt32 = 1
    static let headerSize = 64

    /// What a cache file must hold to be used.
    public struct Key: Equatable, Sendable {
        public var frames: Int, channels: Int, height: Int, width: Int, classes: Int
        public var split: FrameSplit
        public var fingerprint: UInt64
    }

    /// FNV-1a over `parts` and each source file's path, size and modification time.
    public static func fingerprint(_ parts: [String], sources: [URL]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func add(_ text: String) {
            for byte in text.utf8 + [0] { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        }
        parts.forEach(add)
        for url in sources {
            let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let time = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            add("\(url.lastPathComponent)\t\(size)\t\(time)")
        }
        return hash
    }

    /// The cached split at `url`, or why it cannot be used (missing, stale, corrupt).
    public static func load(_ url: URL, key: Key) -> Result<FrameSet, DataError> {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return .failure(DataError("\(url.path) does not exist yet")) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size >= headerSize else {
            return .failure(DataError("\(url.path) is shorter than its \(headerSize)-byte header"))
        }
        let length = Int(info.st_size)
        guard let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            return .failure(DataError("\(url.path) cannot be mapped: \(String(cString: strerror(errno)))"))
        }
        let labels: [Int]
        switch check(UnsafeRawBufferPointer(start: base, count: length), key: key, name: url.path) {
        case .success(let found): labels = found
        case .failure(let error):
            munmap(base, length)
            return .failure(error)
        }
        let n = labels.count, sampleSize = key.frames * key.channels * key.height * key.width
        let valuesOffset = headerSize + 4 * n
        let values = FrameBuffer(mapped: base, length: length, offset: valuesOffset, count: n * sampleSize)
        return .success(FrameSet(frames: key.frames, channels: key.channels, height: key.height, width: key.width,
                                 labels: labels, classes: key.classes, values: values))
    }

    /// The labels of the cache file `bytes` (named `name` in errors) after
    /// checking its magic, version, shape against `key`, size, CRC-32 and
    /// labels; the frames follow them, at `headerSize + 4·N`.
    static func check(_ bytes: UnsafeRawBufferPointer, key: Key, name: String) -> Result<[Int], DataError> {
        func fail(_ reason: String) -> Result<[Int], DataError> { .failure(DataError("\(name): \(reason)")) }
        guard bytes.count >= headerSize else { return fail("shorter than its \(headerSize)-byte header") }
        let length = bytes.count
        func u32(_ at: Int) -> Int { Int(bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian) }
        guard Array(bytes[0..<8]) == magic else { return fail("not a clif-mpi frame cache (bad magic)") }
        guard u32(8) == Int(formatVersion) else { return fail("cache format version \(u32(8)), expected \(formatVersion)") }
        let shape = (1...7).map { u32(8 + 4 * $0) }
        let expected = [key.frames, key.channels, key.height, key.width, shape[4], key.classes, key.split.code]
        guard shape == expected else { return fail("holds T, C, H, W, N, classes, split = \(shape), expected \(expected)") }
        let fingerprint = bytes.loadUnaligned(fromByteOffset: 40, as: UInt64.self).littleEndian
        guard fingerprint == key.fingerprint else { return fail("stale: the event files changed since it was written") }
        let n = shape[4], sampleSize = key.frames * key.channels * key.height * key.width
        let valuesOffset = headerSize + 4 * n
        guard length == valuesOffset + 4 * n * sampleSize else {
            return fail("\(length) bytes, expected \(valuesOffset + 4 * n * sampleSize) for \(n) samples (truncated)")
        }
        let crc = crc32Of(UnsafeRawBufferPointer(rebasing: bytes[headerSize...]))
        guard crc == UInt32(u32(48)) else { return fail("corrupt: CRC-32 \(crc) of the contents, the header says \(u32(48))") }
        let labels = (0..<n).map { u32(headerSize + 4 * $0) }
        guard labels.allSatisfy({ $0 < key.classes }) else { return fail("corrupt: a label is not below \(key.classes)") }
        return .success(labels)
    }

    static func crc32Of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value: UInt = 0
        var done = 0
        while done < bytes.count {
            let chunk = min(bytes.count - done, 1 << 30)
            value = CZlib.crc32(value, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + done, uInt(chunk))
            done += chunk
        }
        return UInt32(value)
    }

    /// Writes a split sample by sample (`sample(i)` gives `[T, C, H, W]`)
    /// into a temporary file renamed over `url` when complete, so a reader
    /// never sees a partial cache.
    public static func write(_ url: URL, key: Key, labels: [Int], sample: (Int) throws -> [Float]) throws {
        let sampleSize = key.frames * key.channels * key.height * key.width
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: temporary.path, contents: nil)
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            var crc: UInt = CZlib.crc32(0, nil, 0)
            func emit(_ data: Data) throws {
                data.withUnsafeBytes { crc = CZlib.crc32(crc, $0.bindMemory(to: UInt8.self).baseAddress, uInt($0.count)) }
                try handle.write(contentsOf: data)
            }
            try handle.write(contentsOf: Data(count: headerSize))
            var labelBytes = Data(capacity: 4 * labels.count)
            for label in labels { withUnsafeBytes(of: UInt32(label).littleEndian) { labelBytes.append(contentsOf: $0) } }
            try emit(labelBytes)
            for i in 0..<labels.count {
                let values = try sample(i)
                precondition(values.count == sampleSize, "FrameCache: sample \(i) has \(values.count) values, expected \(sampleSize)")
                try emit(values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) })
            }
            var header = Data(magic)
            let fields = [Int(formatVersion), key.frames, key.channels, key.height, key.width, labels.count, key.classes,
                          key.split.code]
            for field in fields { withUnsafeBytes(of: UInt32(field).littleEndian) { header.append(contentsOf: $0) } }
            withUnsafeBytes(of: key.fingerprint.littleEndian) { header.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(crc).littleEndian) { header.append(contentsOf: $0) }
            header.append(Data(count: headerSize - header.count))
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: header)
            try handle.synchronize()
            guard rename(temporary.path, url.path) == 0 else {
                throw DataError("cannot move the frame cache into place at \(url.path): \(String(cString: strerror(errno)))")
            }
        } catch let error as DataError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DataError("cannot write the frame cache \(url.path): \(error.localizedDescription); make \(url.deletingLastPathComponent().path) writable (it lives under -data_dir)")
        }
    }

    /// The split cached at `url` for `key`, built with `build` (then cached)
    /// when the file is missing, stale or corrupt; `note` hears why.
    public static func cached(_ url: URL, key: Key, labels: () throws -> [Int], sample: (Int) throws -> [Float],
                              note: (String) -> Void) throws -> FrameSet {
        switch load(url, key: key) {
        case .success(let set): return set
        case .failure(let reason):
            note("building the frame cache: \(reason.description)")
            try write(url, key: key, labels: try labels(), sample: sample)
            switch load(url, key: key) {
            case .success(let set): return set
            case .failure(let error): throw DataError("the frame cache just written is unreadable: \(error.description)")
            }
        }
    }
}
