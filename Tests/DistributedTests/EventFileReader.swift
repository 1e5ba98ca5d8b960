import Core
import Foundation

/// Reads TensorBoard event files without TensorBoard: checks every record's
/// two masked CRC-32C values and decodes the `Event` / `Summary` /
/// `HistogramProto` fields clif-mpi writes.
struct EventFileReader {
    struct Histogram: Equatable {
        var min = 0.0, max = 0.0, num = 0.0, sum = 0.0, sumSquares = 0.0
        var bucketLimit: [Double] = [], bucket: [Double] = []
    }

    enum Value: Equatable {
        case scalar(Float)
        case histogram(Histogram)
    }

    struct Summary: Equatable {
        var step: Int, tag: String, value: Value
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// The file's version string ("brain.Event:2") and its summaries in file order.
    var fileVersion: String?
    var summaries: [Summary] = []

    init(url: URL) throws {
        let data = try Data(contentsOf: url)
        var offset = 0
        while offset < data.count {
            guard offset + 12 <= data.count else { throw Failure(description: "\(url.path): truncated header at \(offset)") }
            let lengthBytes = Data(data[offset..<(offset + 8)])
            let length = Int(lengthBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            guard Self.word(data, offset + 8) == CRC32C.masked(lengthBytes) else {
                throw Failure(description: "\(url.path): bad length CRC at \(offset)")
            }
            guard offset + 16 + length <= data.count else { throw Failure(description: "\(url.path): truncated record at \(offset)") }
            let payload = Data(data[(offset + 12)..<(offset + 12 + length)])
            guard Self.word(data, offset + 12 + length) == CRC32C.masked(payload) else {
                throw Failure(description: "\(url.path): bad payload CRC at \(offset)")
            }
            try decodeEvent(payload)
            offset += 16 + length
        }
    }

    /// The scalar summaries as tag → value by step.
    var scalars: [String: [Int: Float]] {
        var out: [String: [Int: Float]] = [:]
        for s in summaries { if case .scalar(let v) = s.value { out[s.tag, default: [:]][s.step] = v } }
        return out
    }

    var histograms: [String: [Int: Histogram]] {
        var out: [String: [Int: Histogram]] = [:]
        for s in summaries { if case .histogram(let h) = s.value { out[s.tag, default: [:]][s.step] = h } }
        return out
    }

    private static func word(_ data: Data, _ at: Int) -> UInt32 {
        data[at..<(at + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    private mutating func decodeEvent(_ payload: Data) throws {
        var step = 0
        var values: [(String, Value)] = []
        for field in try Self.fields(payload) {
            switch (field.number, field.content) {
            case (2, .varint(let v)): step = Int(v)
            case (3, .bytes(let b)): fileVersion = String(decoding: b, as: UTF8.self)
            case (5, .bytes(let summary)):
                for value in try Self.fields(summary) where value.number == 1 {
                    guard case .bytes(let b) = value.content else { continue }
                    values.append(try Self.decodeValue(b))
                }
            default: break
            }
        }
        summaries += values.map { Summary(step: step, tag: $0.0, value: $0.1) }
    }

    private static func decodeValue(_ data: Data) throws -> (String, Value) {
        var tag = "", value: Value?
        for field in try fields(data) {
            switch (field.number, field.content) {
            case (1, .bytes(let b)): tag = String(decoding: b, as: UTF8.self)
            case (2, .fixed32(let bits)): value = .scalar(Float(bitPattern: bits))
            case (5, .bytes(let b)): value = .histogram(try decodeHistogram(b))
            default: break
            }
        }
        guard let value else { throw Failure(description: "summary value \(tag) holds neither a scalar nor a histogram") }
        return (tag, value)
    }

    private static func decodeHistogram(_ data: Data) throws -> Histogram {
        var h = Histogram()
        for field in try fields(data) {
            switch (field.number, field.content) {
            case (1, .fixed64(let b)): h.min = Double(bitPattern: b)
            case (2, .fixed64(let b)): h.max = Double(bitPattern: b)
            case (3, .fixed64(let b)): h.num = Double(bitPattern: b)
            case (4, .fixed64(let b)): h.sum = Double(bitPattern: b)
            case (5, .fixed64(let b)): h.sumSquares = Double(bitPattern: b)
            case (6, .bytes(let b)): h.bucketLimit = doubles(b)
            case (7, .bytes(let b)): h.bucket = doubles(b)
            default: break
            }
        }
        return h
    }

    private static func doubles(_ data: Data) -> [Double] {
        stride(from: 0, to: data.count - 7, by: 8).map { i in
            Double(bitPattern: data[(data.startIndex + i)..<(data.startIndex + i + 8)].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        }
    }

    enum Content { case varint(UInt64), fixed64(UInt64), bytes(Data), fixed32(UInt32) }

    /// The protobuf fields of `data`, in order.
    static func fields(_ data: Data) throws -> [(number: UInt64, content: Content)] {
        let bytes = [UInt8](data)
        var i = 0, out: [(UInt64, Content)] = []
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < bytes.count, shift < 64 else { throw Failure(description: "truncated varint") }
                let b = bytes[i]; i += 1
                value |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return value }
                shift += 7
            }
        }
        func take(_ n: Int) throws -> [UInt8] {
            guard n >= 0, i + n <= bytes.count else { throw Failure(description: "field runs past its message") }
            defer { i += n }
            return Array(bytes[i..<(i + n)])
        }
        func little<T: FixedWidthInteger>(_ b: [UInt8], _: T.Type) -> T {
            b.reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        while i < bytes.count {
            let key = try varint()
            switch key & 7 {
            case 0: out.append((key >> 3, .varint(try varint())))
            case 1: out.append((key >> 3, .fixed64(little(try take(8), UInt64.self))))
            case 2: out.append((key >> 3, .bytes(Data(try take(Int(try varint()))))))
            case 5: out.append((key >> 3, .fixed32(little(try take(4), UInt32.self))))
            default: throw Failure(description: "wire type \(key & 7) is not used by event files")
            }
        }
        return out
    }

    /// The one event file in `folder`.
    static func file(in folder: URL) throws -> URL {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("events.out.tfevents.") }
        guard names.count == 1 else { throw Failure(description: "expected one event file in \(folder.path), found \(names)") }
        return folder.appendingPathComponent(names[0])
    }
}
