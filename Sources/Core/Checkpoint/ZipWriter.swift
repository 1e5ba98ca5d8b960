import CZlib
import Foundation

/// Writes a ZIP archive of stored (uncompressed) entries the way
/// `torch.save` does: each entry's data starts on a 64-byte boundary (the
/// local header's extra field pads it, as PyTorch's writer does, so a
/// reader can map tensors in place), CRC-32 and sizes in the local header,
/// UTF-8 names, then the central directory and its end record (PKWARE
/// APPNOTE 6.3). Archives of 4 GiB or more would need ZIP64 and are refused.
struct ZipWriter {
    static let alignment = 64
    private(set) var data = Data()
    private var directory = Data()
    private var count = 0

    /// Appends the entry `name` holding `bytes`.
    mutating func add(_ name: String, _ bytes: Data) throws {
        let nameBytes = Array(name.utf8)
        let offset = data.count
        // The extra field: id 0x4246 ("FB"), length, zeros up to the boundary.
        let padding = (Self.alignment - (offset + 30 + nameBytes.count + 4) % Self.alignment) % Self.alignment
        let extraLength = 4 + padding
        guard offset + 30 + nameBytes.count + extraLength + bytes.count < Int(UInt32.max), nameBytes.count < 0xFFFF else {
            throw CheckpointError(description: "the .pth archive would reach 4 GiB at entry \(name); clif-mpi writes archives up to 4 GiB (no ZIP64)")
        }
        let crc = Self.crc32(bytes)
        var local = Data()
        local.u32(0x0403_4B50); local.u16(20); local.u16(0x0800); local.u16(0)  // signature, version, UTF-8, stored
        local.u16(0); local.u16(0x21)                                           // time 00:00, date 1980-01-01
        local.u32(crc); local.u32(UInt32(bytes.count)); local.u32(UInt32(bytes.count))
        local.u16(UInt16(nameBytes.count)); local.u16(UInt16(extraLength))
        local.append(contentsOf: nameBytes)
        local.u16(0x4246); local.u16(UInt16(padding)); local.append(Data(count: padding))
        data.append(local)
        data.append(bytes)

        var central = Data()
        central.u32(0x0201_4B50); central.u16(20); central.u16(20); central.u16(0x0800); central.u16(0)
        central.u16(0); central.u16(0x21)
        central.u32(crc); central.u32(UInt32(bytes.count)); central.u32(UInt32(bytes.count))
        central.u16(UInt16(nameBytes.count)); central.u16(0); central.u16(0)  // name, extra, comment lengths
        central.u16(0); central.u16(0); central.u32(0)                        // disk, internal, external attributes
        central.u32(UInt32(offset))
        central.append(contentsOf: nameBytes)
        directory.append(central)
        count += 1
    }

    /// The finished archive: the entries, the central directory, the end record.
    func finished() throws -> Data {
        guard count < 0xFFFF, data.count + directory.count < Int(UInt32.max) else {
            throw CheckpointError(description: "the .pth archive would need ZIP64 (\(count) entries, \(data.count) bytes); clif-mpi writes archives up to 4 GiB and 65,534 entries")
        }
        var out = data
        out.append(directory)
        var end = Data()
        end.u32(0x0605_4B50); end.u16(0); end.u16(0)
        end.u16(UInt16(count)); end.u16(UInt16(count))
        end.u32(UInt32(directory.count)); end.u32(UInt32(data.count)); end.u16(0)
        out.append(end)
        return out
    }

    static func crc32(_ bytes: Data) -> UInt32 {
        bytes.withUnsafeBytes { raw -> UInt32 in
            guard let base = raw.bindMemory(to: Bytef.self).baseAddress else { return 0 }
            var value: uLong = 0
            var done = 0
            while done < raw.count {  // zlib's length is 32-bit: feed it in chunks
                let chunk = min(raw.count - done, 1 << 30)
                value = CZlib.crc32(value, base + done, uInt(chunk))
                done += chunk
            }
            return UInt32(truncatingIfNeeded: value)
        }
    }
}

private extension Data {
    mutating func u16(_ v: UInt16) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
}
