import Foundation

/// Readers of the two AEDAT event-file versions the DVS datasets ship in.
/// Errors name the file, the byte offset, what was expected and what was found.
public enum AEDAT {
    /// A text line of the header, terminator included: bytes `[start, end)`.
    private static func line(in bytes: UnsafeRawBufferPointer, from start: Int) -> Range<Int> {
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        return start..<min(end + 1, bytes.count)
    }

    /// AEDAT 3.1 (DVS128 Gesture): a text header ending with the line
    /// `#!END-HEADER\r\n`, then packets of a 28-byte little-endian header
    /// (eventType u16, eventSource u16, eventSize, eventTSOffset,
    /// eventTSOverflow, eventCapacity, eventNumber, eventValid: u32) and
    /// `eventCapacity · eventSize` bytes of events. Only polarity packets
    /// (type 1) are read, every one of their `eventCapacity` slots, as
    /// spikingjelly's `load_aedat_v3` does: data u32 (x = bits 17–31,
    /// y = bits 2–16, p = bit 1), then a u32 timestamp; t = timestamp | overflow << 31.
    public static func readVersion3(_ data: Data, file: String) throws -> EventStream {
        try data.withUnsafeBytes { bytes -> EventStream in
            var offset = 0
            var sawEnd = false
            while offset < bytes.count && bytes[offset] == UInt8(ascii: "#") {
                let range = line(in: bytes, from: offset)
                offset = range.upperBound
                if Array(bytes[range]) == Array("#!END-HEADER\r\n".utf8) { sawEnd = true; break }
            }
            guard sawEnd else {
                throw DataError("\(file): not an AEDAT 3.1 file: no `#!END-HEADER` line ends a `#` text header (found \(offset == 0 ? "no header" : "a header of \(offset) bytes without it")); expected a DVS128 Gesture recording")
            }
            var events = EventStream()
            events.reserveCapacity((bytes.count - offset) / 8)
            while offset < bytes.count {
                guard bytes.count - offset >= 28 else {
                    throw DataError("\(file): truncated: a packet header needs 28 bytes at offset \(offset), found \(bytes.count - offset); the file is cut short, download it again")
                }
                func u32(_ at: Int) -> UInt32 { bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian }
                let type = bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian
                let size = Int(u32(offset + 4)), overflow = Int64(u32(offset + 12)), capacity = Int(u32(offset + 20))
                let (length, wrapped) = size.multipliedReportingOverflow(by: capacity)
                let start = offset + 28
                guard !wrapped && length <= bytes.count - start else {
                    throw DataError("\(file): truncated: the packet at offset \(offset) announces \(capacity) events of \(size) bytes, only \(bytes.count - start) bytes follow; the file is cut short or corrupt, download it again")
                }
                if type == 1 {
                    guard size >= 8 else {
                        throw DataError("\(file): the polarity packet at offset \(offset) has events of \(size) bytes, expected at least 8")
                    }
                    for k in 0..<capacity {
                        let at = start + k * size
                        let word = u32(at)
                        events.append(t: Int64(u32(at + 4)) | overflow << 31,
                                      x: Int32((word >> 17) & 0x7FFF), y: Int32((word >> 2) & 0x7FFF),
                                      p: UInt8((word >> 1) & 1))
                    }
                }
                offset = start + length
            }
            return events
        }
    }

    /// AEDAT 2.0 (CIFAR10-DVS): text header lines starting with `#`, then
    /// big-endian (u32 address, u32 timestamp) pairs. Decoded as the
    /// original's `CIFAR10DVS.read_bin` does (the DVS128 address layout):
    /// x = 127 − ((addr & 0xFE) >> 1), y = (addr & 0x7F00) >> 8, p = 1 − (addr & 1).
    public static func readVersion2(_ data: Data, file: String) throws -> EventStream {
        try data.withUnsafeBytes { bytes -> EventStream in
            var offset = 0
            while offset < bytes.count && bytes[offset] == UInt8(ascii: "#") {
                offset = line(in: bytes, from: offset).upperBound
            }
            let payload = bytes.count - offset
            guard payload % 8 == 0 else {
                throw DataError("\(file): truncated: \(payload) bytes of events after the \(offset)-byte header, expected a multiple of 8 (u32 address + u32 timestamp each); the file is cut short, download it again")
            }
            var events = EventStream()
            events.reserveCapacity(payload / 8)
            for at in stride(from: offset, to: bytes.count, by: 8) {
                let address = bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self).bigEndian
                let time = bytes.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self).bigEndian
                events.append(t: Int64(time), x: 127 - Int32((address & 0xFE) >> 1),
                              y: Int32((address & 0x7F00) >> 8), p: UInt8(1 - (address & 1)))
            }
            return events
        }
    }

    /// Reads `url` with `reader`, naming the file when it cannot be read.
    static func read(_ url: URL, _ reader: (Data, String) throws -> EventStream) throws -> EventStream {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DataError("cannot read the event file \(url.path): \(error.localizedDescription)")
        }
        return try reader(data, url.path)
    }
}
