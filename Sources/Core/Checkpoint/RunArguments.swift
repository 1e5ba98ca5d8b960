import Foundation

/// The arguments of a training run, as checkpoints record them and
/// `infer`, `energy`, `convert` and `-resume` read them back.
///
/// Checkpoints store them under the metadata key `arguments` as JSON:
///
///     {"format":"clif-mpi-arguments/1","values":{"T":6,"amp":false,"lr":0.1,"name":"a, b","pre_train":null,…}}
///
/// `values` maps each argument's name (the original's spelling: `T_max`,
/// `data_dir`) to a JSON string, number, boolean or `null` (an option not
/// given). Checkpoints written before it kept only the `args` key, the text
/// of the original's `args.txt` (`Namespace(T=6, …)`); `recorded(in:file:)`
/// falls back to it (`RunArguments+Namespace.swift`).
public struct RunArguments: Sendable, Equatable {
    /// One argument's value.
    public enum Value: Sendable, Equatable {
        case text(String)
        /// A number as Swift prints it (`128`, `0.1`, `1e-05`).
        case number(String)
        case flag(Bool)
        /// An option that was not given (`None` in the original).
        case none
    }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Value
        public init(_ key: String, _ value: Value) { self.key = key; self.value = value }
    }

    /// The arguments in the order `args.txt` shows them.
    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    /// The metadata key of the JSON form and its format tag.
    public static let metadataKey = "arguments"
    public static let format = "clif-mpi-arguments/1"
    /// The metadata key of the `Namespace(…)` text older checkpoints hold.
    public static let legacyMetadataKey = "args"

    /// The value of `key` as text (`True`/`False` for flags, as in the
    /// original); nil when it is absent or was not given.
    public subscript(key: String) -> String? {
        switch entries.last(where: { $0.key == key })?.value {
        case .text(let text)?, .number(let text)?: return text
        case .flag(let on)?: return on ? "True" : "False"
        case .none?, nil: return nil
        }
    }

    /// The arguments a checkpoint's metadata records: the JSON form when
    /// present, else the `Namespace(…)` text of older checkpoints, else none.
    /// - Throws: `CheckpointError` naming `file` when the JSON form is damaged.
    public static func recorded(in metadata: [String: String], file: String) throws -> RunArguments {
        if let json = metadata[metadataKey] { return try RunArguments(json: json, file: file) }
        return metadata[legacyMetadataKey].map { RunArguments(namespace: $0) } ?? RunArguments()
    }
}

// MARK: - JSON form

extension RunArguments {
    private struct Document: Codable {
        var format: String
        var values: [String: Value]
    }

    /// The JSON text stored under `metadataKey` (keys sorted, so the same
    /// arguments always give the same bytes).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var values: [String: Value] = [:]
        for entry in entries { values[entry.key] = entry.value }
        // Encoding a dictionary of strings, numbers, booleans and nulls cannot fail.
        guard let data = try? encoder.encode(Document(format: Self.format, values: values)) else {
            preconditionFailure("RunArguments: JSON encoding failed for \(entries)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads the JSON form; `file` names the checkpoint in errors.
    public init(json: String, file: String) throws {
        func damaged(_ found: String) -> CheckpointError {
            CheckpointError(description: "\(file): metadata \(Self.metadataKey) is \(found), expected {\"format\":\"\(Self.format)\",\"values\":{…}} (a damaged or hand-edited checkpoint)")
        }
        let document: Document
        do { document = try JSONDecoder().decode(Document.self, from: Data(json.utf8)) } catch {
            throw damaged("not that JSON (\"\(json.prefix(60))\")")
        }
        guard document.format == Self.format else { throw damaged("of format \"\(document.format.prefix(60))\"") }
        self.init(document.values.sorted { $0.key < $1.key }.map { Entry($0.key, $0.value) })
    }
}

extension RunArguments.Value: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .none; return }
        if let flag = try? container.decode(Bool.self) { self = .flag(flag); return }
        if let integer = try? container.decode(Int64.self) { self = .number(String(integer)); return }
        if let integer = try? container.decode(UInt64.self) { self = .number(String(integer)); return }
        if let real = try? container.decode(Double.self) {
            // An integral value reads as the integer JSON writes it as
            // (7.777777771777778e+18 reads as 7777777771777777664), so a
            // number's text stays the same through a write and a read.
            if let integer = Int64(exactly: real) { self = .number(String(integer)) }
            else if let integer = UInt64(exactly: real) { self = .number(String(integer)) }
            else { self = .number(String(real)) }
            return
        }
        self = .text(try container.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .flag(let on): try container.encode(on)
        case .none: try container.encodeNil()
        case .number(let text):
            // Integers stay exact (a 64-bit seed); a value JSON cannot hold
            // as a number (nan, inf) is kept as its text.
            if let integer = Int64(text) { try container.encode(integer) }
            else if let integer = UInt64(text) { try container.encode(integer) }
            else if let real = Double(text), real.isFinite { try container.encode(real) }
            else { try container.encode(text) }
        }
    }
}
