import Foundation

/// A problem with a safetensors file, worded for the user.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "\(file): not a valid safetensors file: \(problem)" }
}

/// Element types of the safetensors format that clif-mpi reads.
public enum SafeTensorsType: String, Sendable {
    case f32 = "F32", f64 = "F64", i64 = "I64", i32 = "I32", u8 = "U8", bool = "BOOL"

    public var size: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .u8, .bool: 1
        }
    }
}

/// One tensor of a safetensors file: its type, shape and raw little-endian bytes.
public struct SafeTensor: Sendable {
    public let type: SafeTensorsType
    public let shape: [Int]
    public let bytes: Data

    public var count: Int { shape.reduce(1, *) }

    /// The values converted to fp32 (integers exactly up to 2^24).
    public var floats: [Float] {
        bytes.withUnsafeBytes { raw -> [Float] in
            switch type {
            case .f32: (0..<count).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
            case .f64: (0..<count).map { Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian)) }
            case .i64: (0..<count).map { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
            case .i32: (0..<count).map { Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .u8, .bool: raw.map { Float($0) }
            }
        }
    }

    public var tensor: Tensor { Tensor(shape: shape, data: floats) }
}

/// A safetensors file (https://github.com/huggingface/safetensors format):
/// an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the tensor bytes. Every size in the
/// header is checked against the file before anything is allocated.
public struct SafeTensorsFile: Sendable {
    public private(set) var tensors: [String: SafeTensor] = [:]
    public private(set) var metadata: [String: String] = [:]
    /// Names in the order of their data offsets.
    public private(set) var names: [String] = []

    /// Headers larger than this are refused (the format's own limit is 100 MB).
    public static let maxHeaderBytes = 100_000_000

    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw SafeTensorsError(file: url.path, problem: "cannot read it (\(error.localizedDescription))")
        }
        try self.init(data: data, name: url.path)
    }

    public init(data: Data, name: String = "<memory>") throws {
        let (header, body) = try Self.header(of: data, name: name)
        var entries: [(name: String, begin: Int, tensor: SafeTensor)] = []
        for (key, value) in header {
            if key == "__metadata__" {
                metadata = try Self.metadata(value, name: name)
                continue
            }
            let (begin, tensor) = try Self.tensorEntry(key, value, body: body, name: name)
            entries.append((key, begin, tensor))
        }
        entries.sort { $0.begin < $1.begin }
        for e in entries { tensors[e.name] = e.tensor }
        names = entries.map(\.name)
    }

    /// The JSON header, parsed once its length has been checked against the
    /// limit and the file, and the data bytes that follow it.
    private static func header(of data: Data, name: String) throws -> (header: [String: Any], body: Data) {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: name, problem: problem) }
        guard data.count >= 8 else { throw fail("it is \(data.count) bytes long, shorter than the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw fail("the header claims \(headerLength) bytes, more than the limit of \(Self.maxHeaderBytes)")
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("the header claims \(headerLength) bytes but only \(data.count - 8) follow (truncated file?)")
        }
        let start = data.startIndex
        let headerData = data[(start + 8)..<(start + 8 + Int(headerLength))]
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw fail("the header is not JSON (\(error.localizedDescription))")
        }
        guard let header = json as? [String: Any] else { throw fail("the header is not a JSON object") }
        return (header, data[(start + 8 + Int(headerLength))...])
    }

    /// The `__metadata__` object, whose values must all be strings.
    private static func metadata(_ value: Any, name: String) throws -> [String: String] {
        guard let meta = value as? [String: Any] else {
            throw SafeTensorsError(file: name, problem: "__metadata__ is not an object")
        }
        var metadata: [String: String] = [:]
        for (k, v) in meta {
            guard let s = v as? String else {
                throw SafeTensorsError(file: name, problem: "__metadata__ value for \(k) is not a string")
            }
            metadata[k] = s
        }
        return metadata
    }

    /// Header entry `key` and the tensor it names, with its byte range
    /// checked against `body` (the data after the header) and against its
    /// dtype and shape. `begin` is the range's start, which orders the names.
    private static func tensorEntry(_ key: String, _ value: Any, body: Data, name: String) throws
        -> (begin: Int, tensor: SafeTensor) {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: name, problem: problem) }
        guard let info = value as? [String: Any],
              let dtypeName = info["dtype"] as? String,
              let shapeValues = info["shape"] as? [Any],
              let offsets = info["data_offsets"] as? [Any], offsets.count == 2
        else { throw fail("the entry for tensor \(key) lacks dtype, shape or data_offsets") }
        guard let type = SafeTensorsType(rawValue: dtypeName) else {
            throw fail("tensor \(key) has dtype \(dtypeName); supported: F32, F64, I64, I32, U8, BOOL")
        }
        let bodyLength = body.count
        let (shape, elements) = try Self.shape(shapeValues, of: key, limit: bodyLength, name: name)
        guard let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue,
              begin >= 0, begin <= end, end <= bodyLength
        else { throw fail("tensor \(key) has data_offsets \(offsets) outside the \(bodyLength) data bytes") }
        guard end - begin == elements * type.size else {
            throw fail("tensor \(key) has \(end - begin) bytes for shape \(shape) of \(dtypeName) (\(elements * type.size) expected)")
        }
        let bytes = Data(body[(body.startIndex + begin)..<(body.startIndex + end)])
        return (begin, SafeTensor(type: type, shape: shape, bytes: bytes))
    }

    /// Tensor `key`'s shape and element count, refused when a dimension is
    /// not a non-negative integer or the running product exceeds `limit`.
    private static func shape(_ values: [Any], of key: String, limit: Int, name: String) throws
        -> (shape: [Int], elements: Int) {
        var shape: [Int] = []
        var elements = 1
        for dim in values {
            // Any size: the running product is what must fit the file
            // (an empty tensor may have other dimensions of any size).
            guard let d = (dim as? NSNumber)?.intValue, d >= 0 else {
                throw SafeTensorsError(file: name, problem: "tensor \(key) has an invalid shape \(values)")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow, product <= limit else {
                throw SafeTensorsError(file: name, problem: "tensor \(key) shape \(values) is larger than the file")
            }
            elements = product
            shape.append(d)
        }
        return (shape, elements)
    }

    /// The tensor `name` as fp32, or nil.
    public func tensor(_ name: String) -> Tensor? {
        tensors[name]?.tensor
    }
}

/// Builds a safetensors file in memory, tensors in the order they are added.
public struct SafeTensorsWriter {
    private var entries: [(name: String, type: SafeTensorsType, shape: [Int], bytes: Data)] = []
    public var metadata: [String: String] = [:]

    public init() {}

    public mutating func add(_ name: String, _ tensor: Tensor) {
        add(name, shape: tensor.shape, floats: tensor.data)
    }

    public mutating func add(_ name: String, shape: [Int], floats: [Float]) {
        entries.append((name, .f32, shape, Self.littleEndianBytes(floats.map(\.bitPattern))))
    }

    public mutating func add(_ name: String, shape: [Int], int64s: [Int64]) {
        entries.append((name, .i64, shape, Self.littleEndianBytes(int64s)))
    }

    /// The values' little-endian bytes (safetensors' byte order). On a
    /// little-endian host one copy of the whole array: appending value by
    /// value took 2.7 s of CPU for one spiking_resnet18 checkpoint (22 M
    /// values with the momentum; `perf record -e cpu-clock`, loaded 2-core
    /// host), paid at every epoch's end and every `--max-steps` stop.
    /// `littleEndianBytesReference` is the plain form.
    static func littleEndianBytes<Value: FixedWidthInteger>(_ values: [Value]) -> Data {
        #if _endian(little)
        return values.withUnsafeBytes { Data($0) }
        #else
        return littleEndianBytesReference(values)
        #endif
    }

    /// Value by value, each in little-endian order.
    static func littleEndianBytesReference<Value: FixedWidthInteger>(_ values: [Value]) -> Data {
        var bytes = Data(capacity: values.count * MemoryLayout<Value>.size)
        for v in values { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    /// The whole file.
    public func data() -> Data {
        // Hand-written JSON keeps the key order stable, so equal contents
        // give byte-identical files.
        func quoted(_ s: String) -> String {
            var out = "\""
            for ch in s.unicodeScalars {
                switch ch {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if ch.value < 0x20 { out += String(format: "\\u%04x", ch.value) } else { out.unicodeScalars.append(ch) }
                }
            }
            return out + "\""
        }
        var parts: [String] = []
        if !metadata.isEmpty {
            let meta = metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(meta.joined(separator: ","))}")
        }
        var offset = 0
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append("\(quoted(e.name)):{\"dtype\":\"\(e.type.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}")
            offset += e.bytes.count
        }
        var header = Data(("{" + parts.joined(separator: ",") + "}").utf8)
        // Pad with spaces so the tensor data starts 8-byte aligned.
        while header.count % 8 != 0 { header.append(0x20) }
        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(header)
        for e in entries { out.append(e.bytes) }
        return out
    }
}
