import Foundation

/// Writes TensorBoard event files (`events.out.tfevents.*`): TFRecord
/// framing (length, masked CRC-32C, payload, masked CRC-32C) around
/// hand-encoded `Event` protocol buffers holding scalar and histogram
/// summaries.
public final class TensorBoardWriter {
    public let url: URL
    private let handle: FileHandle

    public init(directory: URL) throws {
        let host = ProcessInfo.processInfo.hostName
        let stamp = Int(Date().timeIntervalSince1970)
        url = directory.appendingPathComponent("events.out.tfevents.\(stamp).\(host)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw LoggingError("cannot create the TensorBoard event file \(url.path)")
        }
        handle = try FileHandle(forWritingTo: url)
        var first = Data()
        Self.appendDouble(&first, field: 1, Date().timeIntervalSince1970)
        Self.appendBytes(&first, field: 3, Data("brain.Event:2".utf8))
        try write(first)
    }

    deinit { try? handle.close() }

    /// Records `value` under `tag` at `step` (the original logs per epoch).
    public func add(scalar tag: String, _ value: Double, step: Int) throws {
        var summaryValue = Data()
        Self.appendBytes(&summaryValue, field: 1, Data(tag.utf8))
        summaryValue.append(0x15)  // field 2, fixed32: simple_value
        withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { summaryValue.append(contentsOf: $0) }
        try write(summaryValue: summaryValue, step: step)
    }

    /// Records `histogram` under `tag` at `step` as a `HistogramProto`
    /// (min 1, max 2, num 3, sum 4, sum_squares 5, packed bucket_limit 6
    /// and bucket 7, all doubles).
    public func add(histogram tag: String, _ histogram: MembraneHistogram, step: Int) throws {
        var proto = Data()
        for (field, value) in [(1, Double(histogram.minimum)), (2, Double(histogram.maximum)), (3, Double(histogram.count)),
                               (4, histogram.sum), (5, histogram.sumOfSquares)] as [(UInt64, Double)] {
            Self.appendDouble(&proto, field: field, value)
        }
        Self.appendBytes(&proto, field: 6, Self.packed(MembraneHistogram.limits))
        Self.appendBytes(&proto, field: 7, Self.packed(histogram.buckets.map(Double.init)))
        var summaryValue = Data()
        Self.appendBytes(&summaryValue, field: 1, Data(tag.utf8))
        Self.appendBytes(&summaryValue, field: 5, proto)  // histo
        try write(summaryValue: summaryValue, step: step)
    }

    /// An `Event` (wall_time 1, step 2, summary 5) holding one `Summary.Value`.
    private func write(summaryValue: Data, step: Int) throws {
        var summary = Data()
        Self.appendBytes(&summary, field: 1, summaryValue)
        var event = Data()
        Self.appendDouble(&event, field: 1, Date().timeIntervalSince1970)
        event.append(0x10)  // field 2, varint: step
        Self.appendVarint(&event, UInt64(bitPattern: Int64(step)))
        Self.appendBytes(&event, field: 5, summary)
        try write(event)
    }

    static func packed(_ values: [Double]) -> Data {
        var data = Data(capacity: 8 * values.count)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    private func write(_ payload: Data) throws {
        var record = Data()
        var length = UInt64(payload.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Data($0) }
        record.append(lengthBytes)
        withUnsafeBytes(of: CRC32C.masked(lengthBytes).littleEndian) { record.append(contentsOf: $0) }
        record.append(payload)
        withUnsafeBytes(of: CRC32C.masked(payload).littleEndian) { record.append(contentsOf: $0) }
        try handle.write(contentsOf: record)
        try handle.synchronize()
    }

    static func appendVarint(_ data: inout Data, _ value: UInt64) {
        var v = value
        while v >= 0x80 { data.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        data.append(UInt8(v))
    }

    static func appendBytes(_ data: inout Data, field: UInt64, _ bytes: Data) {
        appendVarint(&data, field << 3 | 2)
        appendVarint(&data, UInt64(bytes.count))
        data.append(bytes)
    }

    static func appendDouble(_ data: inout Data, field: UInt64, _ value: Double) {
        appendVarint(&data, field << 3 | 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
}

/// CRC-32C (Castagnoli), as TFRecord frames use it.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked form: `((crc >> 15) | (crc << 17)) + 0xa282ead8`.
    public static func masked(_ data: Data) -> UInt32 {
        let crc = checksum(data)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
