import Foundation

/// The entries of a ZIP archive whose members are stored uncompressed, as
/// `torch.save` writes them (PKWARE APPNOTE 6.3: end of central directory,
/// its ZIP64 form, central directory, local headers).
///
/// Every offset and size is checked against the file before it is used; an
/// entry's bytes are checked against its CRC-32 when it is read. Encrypted,
/// multi-disk and compressed entries are refused: torch never writes them.
struct ZipArchive {
    struct Entry {
        let name: String
        let method: UInt16
        let flags: UInt16
        let crc: UInt32
        let compressedSize: Int
        let size: Int
        let localHeaderOffset: Int
    }

    /// Entry names in central-directory order.
    private(set) var names: [String] = []
    private var entries: [String: Entry] = [:]
    private let data: Data
    private let file: String

    /// Whether `data` begins like a ZIP archive (a local file header).
    static func hasSignature(_ data: Data) -> Bool {
        data.count >= 4 && data.prefix(4).elementsEqual([0x50, 0x4B, 0x03, 0x04])
    }

    init(data: Data, name: String) throws {
        self.data = data
        self.file = name
        let directory = try centralDirectory()
        var position = directory.offset
        for index in 0..<directory.count {
            let (entry, length) = try directoryEntry(at: position, index: index)
            entries[entry.name] = entry
            names.append(entry.name)
            position += length
            guard position <= directory.offset + directory.size else {
                throw fail("central directory entry \(index) runs past the directory's \(directory.size) bytes")
            }
        }
    }

    // MARK: - Central directory

    /// Where the central directory lies and how many entries it claims, from
    /// the end record (or its ZIP64 form), checked to end before the end record.
    private func centralDirectory() throws -> (count: Int, offset: Int, size: Int) {
        let end = try findEndOfCentralDirectory()
        var count = Int(try u16(end + 10))
        var directorySize = Int(try u32(end + 12))
        var directoryOffset = Int(try u32(end + 16))
        guard try u16(end + 4) == 0 || u16(end + 4) == 0xFFFF, try u16(end + 6) == 0 || u16(end + 6) == 0xFFFF else {
            throw fail("it spans several disks, which torch never writes")
        }
        if let zip64 = try zip64Directory(before: end) {
            (count, directorySize, directoryOffset) = (zip64.count, zip64.size, zip64.offset)
        }
        guard directoryOffset <= end, directorySize <= end - directoryOffset else {
            throw fail("the central directory claims bytes \(directoryOffset)..<\(directoryOffset &+ directorySize), past its end record at byte \(end)")
        }
        guard count <= directorySize / 46 else {
            throw fail("the central directory claims \(count) entries in \(directorySize) bytes")
        }
        return (count, directoryOffset, directorySize)
    }

    /// The ZIP64 end record's 8-byte fields, which replace the end record's
    /// 0xFFFF… placeholders, when a ZIP64 locator sits just before the end record.
    private func zip64Directory(before end: Int) throws -> (count: Int, offset: Int, size: Int)? {
        guard end >= 20, try u32(end - 20) == 0x0706_4B50 else { return nil }
        let record = try offset(u64(end - 20 + 8), "the ZIP64 end-of-directory offset")
        guard try u32(record) == 0x0606_4B50 else {
            throw fail("the ZIP64 locator points at byte \(record), where no ZIP64 end record starts")
        }
        let count = try offset(u64(record + 32), "the ZIP64 entry count")
        let size = try offset(u64(record + 40), "the ZIP64 directory size")
        let directoryOffset = try offset(u64(record + 48), "the ZIP64 directory offset")
        return (count, directoryOffset, size)
    }

    /// Central directory entry `index`, starting at byte `position`, and its
    /// length in bytes. Its name must not repeat an earlier entry's.
    private func directoryEntry(at position: Int, index: Int) throws -> (entry: Entry, length: Int) {
        guard try u32(position) == 0x0201_4B50 else {
            throw fail("central directory entry \(index) at byte \(position) lacks its signature")
        }
        let flags = try u16(position + 8)
        let method = try u16(position + 10)
        let crc = try u32(position + 16)
        var compressedSize = UInt64(try u32(position + 20))
        var size = UInt64(try u32(position + 24))
        let nameLength = Int(try u16(position + 28))
        let extraLength = Int(try u16(position + 30))
        let commentLength = Int(try u16(position + 32))
        var localOffset = UInt64(try u32(position + 42))
        let nameBytes = try bytes(position + 46, nameLength, "entry \(index)'s name")
        guard let name = String(bytes: nameBytes, encoding: .utf8) else {
            throw fail("entry \(index)'s name is not UTF-8")
        }
        try readZip64Extra(from: position + 46 + nameLength, length: extraLength, entry: name,
                           size: &size, compressedSize: &compressedSize, localOffset: &localOffset)
        guard entries[name] == nil else { throw fail("it holds two entries named \(name)") }
        let entry = Entry(
            name: name, method: method, flags: flags, crc: crc,
            compressedSize: try offset(compressedSize, "entry \(name)'s size"),
            size: try offset(size, "entry \(name)'s size"),
            localHeaderOffset: try offset(localOffset, "entry \(name)'s offset"))
        return (entry, 46 + nameLength + extraLength + commentLength)
    }

    /// Replaces the fields set to 0xFFFFFFFF by the 8-byte values of the
    /// entry's ZIP64 extended information (id 1), which lists them in this order.
    private func readZip64Extra(from start: Int, length extraLength: Int, entry name: String,
                                size: inout UInt64, compressedSize: inout UInt64, localOffset: inout UInt64) throws {
        var extra = start
        let extraEnd = extra + extraLength
        while extra + 4 <= extraEnd {
            let id = try u16(extra), length = Int(try u16(extra + 2))
            guard extra + 4 + length <= extraEnd else { throw fail("entry \(name) has a malformed extra field") }
            if id == 0x0001 {
                var field = extra + 4
                let fieldEnd = extra + 4 + length
                func next() throws -> UInt64 {
                    guard field + 8 <= fieldEnd else { throw fail("entry \(name) has a short ZIP64 field") }
                    defer { field += 8 }
                    return try u64(field)
                }
                if size == 0xFFFF_FFFF { size = try next() }
                if compressedSize == 0xFFFF_FFFF { compressedSize = try next() }
                if localOffset == 0xFFFF_FFFF { localOffset = try next() }
            }
            extra += 4 + length
        }
    }

    func contains(_ name: String) -> Bool { entries[name] != nil }

    /// The bytes of entry `name` (a slice of the archive, not a copy).
    func contents(of name: String) throws -> Data {
        guard let entry = entries[name] else { throw fail("it has no entry \(name)") }
        guard entry.flags & 1 == 0 else { throw fail("entry \(name) is encrypted") }
        guard entry.method == 0 else {
            throw fail("entry \(name) is compressed (method \(entry.method)); torch.save stores entries uncompressed — re-save the checkpoint with torch.save instead of re-zipping it")
        }
        guard entry.size == entry.compressedSize else {
            throw fail("stored entry \(name) claims \(entry.size) bytes but occupies \(entry.compressedSize)")
        }
        let header = entry.localHeaderOffset
        guard try u32(header) == 0x0403_4B50 else {
            throw fail("entry \(name)'s local header at byte \(header) lacks its signature")
        }
        let nameLength = Int(try u16(header + 26)), extraLength = Int(try u16(header + 28))
        guard try bytes(header + 30, nameLength, "entry \(name)'s local name").elementsEqual(name.utf8) else {
            throw fail("entry \(name)'s local header names another file")
        }
        let start = header + 30 + nameLength + extraLength
        let body = try bytes(start, entry.size, "entry \(name)'s \(entry.size) bytes")
        let crc = ZipWriter.crc32(body)
        guard crc == entry.crc else {
            throw fail("entry \(name) fails its CRC-32 check (corrupt file)")
        }
        return body
    }

    // MARK: - Checked reading

    private func fail(_ problem: String) -> CheckpointError {
        CheckpointError(description: "\(file): not a readable PyTorch checkpoint archive: \(problem)")
    }

    private func findEndOfCentralDirectory() throws -> Int {
        guard data.count >= 22 else {
            throw fail("it is \(data.count) bytes long, too short for a ZIP archive (truncated?)")
        }
        // The end record is the last 22 bytes plus a comment of at most 64 KiB.
        let lowest = max(0, data.count - 22 - 0xFFFF)
        var position = data.count - 22
        while position >= lowest {
            if try u32(position) == 0x0605_4B50, try Int(u16(position + 20)) == data.count - 22 - position {
                return position
            }
            position -= 1
        }
        throw fail("it has no end-of-central-directory record (truncated or not a ZIP archive)")
    }

    private func bytes(_ start: Int, _ count: Int, _ what: String) throws -> Data {
        guard start >= 0, count >= 0, start <= data.count, count <= data.count - start else {
            throw fail("\(what) at bytes \(start)..<\(start &+ count) lie outside the \(data.count)-byte file (truncated?)")
        }
        return data[(data.startIndex + start)..<(data.startIndex + start + count)]
    }

    private func unsigned(_ start: Int, _ size: Int) throws -> UInt64 {
        try bytes(start, size, "a header field").reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private func u16(_ start: Int) throws -> UInt16 { UInt16(try unsigned(start, 2)) }
    private func u32(_ start: Int) throws -> UInt32 { UInt32(try unsigned(start, 4)) }
    private func u64(_ start: Int) throws -> UInt64 { try unsigned(start, 8) }

    private func offset(_ value: UInt64, _ what: String) throws -> Int {
        guard value <= UInt64(data.count) else { throw fail("\(what) (\(value)) exceeds the \(data.count)-byte file") }
        return Int(value)
    }
}
