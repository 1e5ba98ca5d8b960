import Foundation

/// A Python global that a pickle names, `module.name` (`numpy.dtype`).
public struct PickleGlobal: Hashable, Sendable, CustomStringConvertible {
    public let module: String
    public let name: String

    public init(_ module: String, _ name: String) {
        self.module = module; self.name = name
    }

    public var description: String { "\(module).\(name)" }
}

/// A value read from a pickle. Nothing ran to build it: where the pickle asks
/// to call a global (REDUCE, NEWOBJ) the value records the call.
public enum PickleValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    /// A Python 3 `str`.
    case string(String)
    /// Python 3 `bytes`/`bytearray`, or a Python 2 `str` (BINSTRING): the
    /// keys and pixel data of the original CIFAR batches.
    case bytes([UInt8])
    case tuple([PickleValue])
    case list([PickleValue])
    /// A `dict` in insertion order; keys are unique, as in Python.
    case dict([PickleEntry])
    /// A global named but not called (`numpy.ndarray` as an argument,
    /// `torch.FloatStorage` inside a persistent id).
    case global(PickleGlobal)
    /// `callee(*arguments)` as REDUCE or NEWOBJ asked, with what BUILD,
    /// APPENDS and SETITEMS then applied to the result.
    indirect case call(PickleCall)
    /// A BINPERSID reference, resolved by the caller (a torch archive's
    /// `('storage', torch.FloatStorage, key, location, count)`).
    indirect case persistent(PickleValue)
}

/// One key/value pair of a pickled dict.
public struct PickleEntry: Sendable, Equatable {
    public var key: PickleValue
    public var value: PickleValue
}

/// A call recorded, not made.
public struct PickleCall: Sendable, Equatable {
    public var callee: PickleGlobal
    public var arguments: [PickleValue]
    /// NEWOBJ (`cls.__new__(cls, *arguments)`) rather than REDUCE.
    public var isNewObject: Bool
    /// The BUILD argument (what `__setstate__` would receive), if any.
    public var state: PickleValue?
    /// Items appended by APPEND/APPENDS.
    public var listItems: [PickleValue]
    /// Items set by SETITEM/SETITEMS (an `OrderedDict`'s contents).
    public var dictItems: [PickleEntry]
}

extension PickleValue {
    /// The value under `key` in a dict (or an `OrderedDict` call), matching a
    /// Python 3 `str` key or a `bytes`/Python 2 `str` key with the same UTF-8.
    public subscript(key: String) -> PickleValue? {
        let entries: [PickleEntry]
        switch self {
        case .dict(let items): entries = items
        case .call(let call): entries = call.dictItems
        default: return nil
        }
        let utf8 = Array(key.utf8)
        return entries.first { entry in
            switch entry.key {
            case .string(let s): return s == key
            case .bytes(let b): return b == utf8
            default: return false
            }
        }?.value
    }

    /// The elements of a tuple or list.
    public var elements: [PickleValue]? {
        switch self {
        case .tuple(let items), .list(let items): return items
        default: return nil
        }
    }

    public var integer: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// A `str`, or `bytes` that are valid UTF-8 (Python 2 strings).
    public var text: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b): return String(bytes: b, encoding: .utf8)
        default: return nil
        }
    }

    /// The dict's keys as text, for messages.
    public var keyNames: [String] {
        switch self {
        case .dict(let items): return items.map { $0.key.text ?? $0.key.summary }
        case .call(let call): return call.dictItems.map { $0.key.text ?? $0.key.summary }
        default: return []
        }
    }

    /// A short description for messages ("a list of 3", "bytes (3072)").
    public var summary: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return "the int \(i)"
        case .float(let f): return "the float \(f)"
        case .string(let s): return "the str '\(s.prefix(40))'"
        case .bytes(let b): return "bytes (\(b.count))"
        case .tuple(let t): return "a tuple of \(t.count)"
        case .list(let l): return "a list of \(l.count)"
        case .dict(let d): return "a dict of \(d.count)"
        case .global(let g): return "the global \(g)"
        case .call(let c): return "a call of \(c.callee)"
        case .persistent: return "a persistent id"
        }
    }
}

/// Reads pickles without executing them: the subset of protocols 2–5 that
/// CIFAR's python batches (Python 2 cPickle, numpy arrays), pickles written
/// by Python 3 + NumPy and PyTorch `data.pkl` archives use.
///
/// Security: GLOBAL/STACK_GLOBAL only name a global and are refused unless
/// the caller allows the name; REDUCE/NEWOBJ record an inert call, refused
/// unless the callee is an allowed callable. Two spellings of `bytes` that
/// Python 3 writes at protocol 2 (`_codecs.encode(str, 'latin1')` and
/// `__builtin__.bytes()`) are always accepted and decoded to `.bytes`.
/// Lengths are checked against the bytes that remain before anything is
/// allocated; nesting deeper than `maxDepth` and reference cycles are refused.
public enum Pickle {
    /// The globals a pickle may name and call.
    public struct Allowlist: Sendable, CustomStringConvertible {
        /// Globals REDUCE/NEWOBJ may call (they also may be named).
        public var callables: Set<PickleGlobal>
        /// Globals that may only appear as values.
        public var names: Set<PickleGlobal>
        /// Whether BINPERSID may appear.
        public var persistentIDs: Bool

        public init(callables: Set<PickleGlobal> = [], names: Set<PickleGlobal> = [], persistentIDs: Bool = false) {
            self.callables = callables; self.names = names; self.persistentIDs = persistentIDs
        }

        /// Plain data only: no globals beyond the `bytes` spellings.
        public static let plainData = Allowlist()

        /// NumPy arrays as NumPy 1.x and 2.x pickle them (see `NumPyArray`).
        public static let numpyArrays = Allowlist(
            callables: [
                PickleGlobal("numpy.core.multiarray", "_reconstruct"),
                PickleGlobal("numpy._core.multiarray", "_reconstruct"),
                PickleGlobal("numpy.core.numeric", "_frombuffer"),
                PickleGlobal("numpy._core.numeric", "_frombuffer"),
                PickleGlobal("numpy", "dtype"),
            ],
            names: [PickleGlobal("numpy", "ndarray")])

        func permits(_ global: PickleGlobal) -> Bool {
            callables.contains(global) || names.contains(global) || Pickle.bytesSpellings.contains(global)
        }

        public var description: String {
            let all = (callables.map { "\($0)()" } + names.map(\.description)).sorted()
            return all.isEmpty ? "none" : all.joined(separator: ", ")
        }
    }

    /// Globals Python 3 uses to spell `bytes` at protocols 0–2; decoded, never called.
    static let bytesSpellings: Set<PickleGlobal> = [
        PickleGlobal("_codecs", "encode"), PickleGlobal("__builtin__", "bytes"), PickleGlobal("builtins", "bytes"),
    ]

    /// The default limit on container nesting (CIFAR nests 4 deep, torch 6).
    public static let defaultMaxDepth = 100

    /// Reads the pickle in `url`; errors name the file and the byte offset.
    public static func load(contentsOf url: URL, allowing allowlist: Allowlist,
                            maxDepth: Int = defaultMaxDepth) throws -> PickleValue {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DataError("\(url.path): cannot read the file (\(error.localizedDescription))")
        }
        return try parse([UInt8](data), name: url.path, allowing: allowlist, maxDepth: maxDepth)
    }

    /// Reads a pickle held in memory; `name` labels errors.
    public static func parse(_ bytes: [UInt8], name: String, allowing allowlist: Allowlist,
                             maxDepth: Int = defaultMaxDepth) throws -> PickleValue {
        var machine = PickleMachine(bytes: bytes, name: name, allowlist: allowlist, maxDepth: maxDepth)
        return try machine.run()
    }
}
