import Foundation

/// What a PyTorch `.pth` checkpoint holds, read without running any of it.
public struct TorchCheckpointContents: Sendable {
    /// The model's `state_dict` in its order: parameters and buffers under
    /// their PyTorch names, each made contiguous (row-major, little-endian).
    public var tensors: [(name: String, tensor: SafeTensor)]
    /// The original's `epoch`: the 0-based index of the last epoch trained
    /// (it resumes at `epoch + 1`); nil for a bare state_dict.
    public var epoch: Int?
    public var maxTestAccuracy: Double?
    /// The optimiser's state, when the checkpoint has one.
    public var optimizer: TorchOptimizerState?

    /// The tensor `name` of the model, or nil.
    public func tensor(_ name: String) -> SafeTensor? {
        tensors.first { $0.name == name }?.tensor
    }
}

/// `optimizer.state_dict()` with its integer parameter ids replaced by the
/// parameter names of the model's `state_dict`.
public struct TorchOptimizerState: Sendable {
    /// "SGD", "Adam" or "AdamW", judged from the state and param_groups.
    public var name: String
    /// Per-parameter state tensors (`momentum_buffer`, `exp_avg`,
    /// `exp_avg_sq`, `step`) in parameter order.
    public var tensors: [(state: String, parameter: String, tensor: SafeTensor)]
    /// Per-parameter numbers kept as Python numbers (`step` in older torch).
    public var scalars: [(state: String, parameter: String, value: Double)]
    /// The numeric settings of the first param group (`lr`, `momentum`,
    /// `weight_decay`, `eps`, `beta1`/`beta2` for `betas`, …).
    public var hyperparameters: [String: Double]
    /// Parameter names in `param_groups` order (= `net.parameters()` order).
    public var parameters: [String]
}

/// Reads checkpoints that `torch.save` wrote in its zip format (PyTorch ≥ 1.6):
/// the original CLIF code's `{'net': state_dict, 'optimizer': …, 'lr_scheduler':
/// …, 'epoch': …, 'max_test_acc': …}` or a bare `state_dict`.
///
/// The archive is `<archive>/data.pkl` (a protocol-2 pickle), one entry
/// `<archive>/data/<key>` of raw little-endian bytes per storage, and
/// `<archive>/byteorder`. In data.pkl a tensor is
/// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
/// requires_grad, backward_hooks)`, a storage the persistent id
/// `('storage', torch.FloatStorage, key, location, numel)`, and a state_dict
/// `collections.OrderedDict()` filled by SETITEMS. Only those globals are
/// accepted, and nothing is called: a checkpoint that names anything else
/// (`os.system`, a model class pickled whole) is refused.
public enum TorchCheckpoint {
    /// Whether `data` starts like a `torch.save` file (zip, or the legacy
    /// pickle: the PROTO opcode 0x80). A safetensors file starts with its
    /// header length, whose low byte is 0x80 for one header length in 32
    /// (headers are padded to 8 bytes), so a file whose header follows at
    /// byte 8 (`{`) is safetensors whatever its first byte.
    public static func isTorchFile(_ data: Data) -> Bool {
        if ZipArchive.hasSignature(data) { return true }
        guard data.first == 0x80 else { return false }
        let start = data.startIndex
        return !(data.count > 8 && data[start + 8] == UInt8(ascii: "{"))
    }

    /// The calls data.pkl may record, and the globals it may name.
    static let allowlist = Pickle.Allowlist(
        callables: [
            PickleGlobal("collections", "OrderedDict"),
            PickleGlobal("torch._utils", "_rebuild_tensor_v2"),
            PickleGlobal("torch._utils", "_rebuild_parameter"),
        ],
        names: Set(storageTypes.keys.map { PickleGlobal("torch", $0) } + unsupportedStorages.map { PickleGlobal("torch", $0) }),
        persistentIDs: true)

    static let storageTypes: [String: SafeTensorsType] = [
        "FloatStorage": .f32, "DoubleStorage": .f64, "LongStorage": .i64, "IntStorage": .i32,
        "ByteStorage": .u8, "BoolStorage": .bool,
    ]
    /// Named so the refusal can say which dtype it is rather than "unknown global".
    static let unsupportedStorages = ["HalfStorage", "BFloat16Storage", "ShortStorage", "CharStorage"]

    public static func read(contentsOf url: URL) throws -> TorchCheckpointContents {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw CheckpointError(description: "\(url.path): cannot read the checkpoint (\(error.localizedDescription))")
        }
        return try read(data, name: url.path)
    }

    /// Reads a `.pth` held in memory; `name` labels errors.
    public static func read(_ data: Data, name: String) throws -> TorchCheckpointContents {
        guard ZipArchive.hasSignature(data) else {
            if data.first == 0x80 {
                throw CheckpointError(description: "\(name): a PyTorch checkpoint in the legacy format (torch < 1.6 or _use_new_zipfile_serialization=False), which clif-mpi does not read; load it in Python and save it again with torch.save(obj, path)")
            }
            throw CheckpointError(description: "\(name): not a PyTorch checkpoint (expected the ZIP archive torch.save writes; the file starts with \(data.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " ")))")
        }
        let zip = try ZipArchive(data: data, name: name)
        let pickles = zip.names.filter { $0.hasSuffix("/data.pkl") && $0.split(separator: "/").count == 2 }
        guard pickles.count == 1, let pickleEntry = pickles.first else {
            throw CheckpointError(description: "\(name): expected one <archive>/data.pkl in the archive, found \(pickles.count) (entries: \(zip.names.prefix(8).joined(separator: ", ")))")
        }
        let prefix = String(pickleEntry.dropLast("data.pkl".count))
        if zip.contains(prefix + "byteorder") {
            let order = String(decoding: try zip.contents(of: prefix + "byteorder"), as: UTF8.self)
            guard order == "little" else {
                throw CheckpointError(description: "\(name): its tensors are stored \(order)-endian; clif-mpi reads little-endian checkpoints only — load and re-save it with torch.save on a little-endian machine")
            }
        }
        let root: PickleValue
        do {
            root = try Pickle.parse([UInt8](try zip.contents(of: pickleEntry)), name: "\(name) (\(pickleEntry))",
                                    allowing: allowlist)
        } catch let error as DataError {
            throw CheckpointError(description: "\(error.description). Only plain state_dict checkpoints are accepted — tensors, numbers, strings, lists and dicts, as torch.save({'net': net.state_dict(), 'optimizer': optimizer.state_dict(), ...}) writes them; nothing in the file was executed")
        }
        var reader = TensorReader(zip: zip, prefix: prefix, file: name)
        return try contents(of: root, reader: &reader)
    }

    // MARK: - Interpreting data.pkl

    static func contents(of root: PickleValue, reader: inout TensorReader) throws -> TorchCheckpointContents {
        let file = reader.file
        if let net = root["net"] {
            let tensors = try stateDict(net, what: "'net'", reader: &reader)
            var result = TorchCheckpointContents(tensors: tensors)
            if let epoch = root["epoch"] {
                guard let value = epoch.integer else {
                    throw CheckpointError(description: "\(file): 'epoch' is \(epoch.summary), expected an int")
                }
                result.epoch = value
            }
            if let best = root["max_test_acc"] {
                result.maxTestAccuracy = try number(best, what: "'max_test_acc'", reader: &reader)
            }
            if let optimizer = root["optimizer"] {
                result.optimizer = try optimizerState(optimizer, tensors: tensors, reader: &reader)
            }
            return result
        }
        guard isMapping(root), !root.keyNames.isEmpty else {
            throw CheckpointError(description: "\(file): expected a dict with 'net' (the original's checkpoint) or a state_dict; found \(root.summary) with keys \(root.keyNames.prefix(8))")
        }
        return TorchCheckpointContents(tensors: try stateDict(root, what: "the state_dict", reader: &reader))
    }

    static func isMapping(_ value: PickleValue) -> Bool {
        switch value {
        case .dict: return true
        case .call(let call): return call.callee == PickleGlobal("collections", "OrderedDict")
        default: return false
        }
    }

    static func entries(_ value: PickleValue) -> [PickleEntry] {
        switch value {
        case .dict(let items): return items
        case .call(let call): return call.dictItems
        default: return []
        }
    }

    static func stateDict(_ value: PickleValue, what: String, reader: inout TensorReader) throws
        -> [(name: String, tensor: SafeTensor)] {
        guard isMapping(value) else {
            throw CheckpointError(description: "\(reader.file): \(what) is \(value.summary), expected a state_dict (an OrderedDict of tensors)")
        }
        return try entries(value).map { entry in
            guard let key = entry.key.text else {
                throw CheckpointError(description: "\(reader.file): \(what) has the key \(entry.key.summary), expected a str")
            }
            return (key, try reader.tensor(entry.value, what: "\(what) entry \(key)"))
        }
    }

    /// A Python number or a one-element tensor.
    static func number(_ value: PickleValue, what: String, reader: inout TensorReader) throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .float(let f): return f
        case .bool(let b): return b ? 1 : 0
        case .call:
            let tensor = try reader.tensor(value, what: what)
            guard tensor.count == 1, let v = tensor.doubles.first else {
                throw CheckpointError(description: "\(reader.file): \(what) is a tensor of shape \(tensor.shape), expected a number")
            }
            return v
        default:
            throw CheckpointError(description: "\(reader.file): \(what) is \(value.summary), expected a number")
        }
    }

    /// Names of state_dict entries that are buffers, not parameters: a
    /// state_dict does not say which is which, and the optimiser's ids count
    /// parameters only. BatchNorm's are the only buffers in the CLIF models.
    static func isBuffer(_ name: String) -> Bool {
        ["running_mean", "running_var", "num_batches_tracked"].contains { name.hasSuffix(".\($0)") || name == $0 }
    }

    /// The optimiser's `state_dict` with its parameter ids mapped, in
    /// `param_groups` order, to the parameters (not buffers) of `tensors`.
    static func optimizerState(_ value: PickleValue, tensors: [(name: String, tensor: SafeTensor)],
                               reader: inout TensorReader) throws -> TorchOptimizerState {
        let file = reader.file
        guard let groups = value["param_groups"]?.elements, let state = value["state"], isMapping(state) else {
            throw optimizerError(file, "lacks 'state' or 'param_groups' (found keys \(value.keyNames))")
        }
        let ids = try parameterIDs(groups, file: file)
        let hyperparameters = groups.first.map(Self.hyperparameters(of:)) ?? [:]
        let parameters = tensors.filter { !isBuffer($0.name) }
        guard ids.count == parameters.count, Set(ids).count == ids.count else {
            throw optimizerError(file, "lists \(ids.count) parameters, but the model's state_dict has \(parameters.count) parameters besides BatchNorm buffers; the checkpoint's optimizer does not match its 'net'")
        }
        var result = TorchOptimizerState(name: "SGD", tensors: [], scalars: [], hyperparameters: hyperparameters,
                                         parameters: parameters.map(\.name))
        for (index, items) in try stateByParameter(state, ids: ids, file: file) {
            try appendState(items, of: parameters[index], to: &result, reader: &reader)
        }
        if result.tensors.contains(where: { $0.state == "exp_avg" }) || hyperparameters["beta1"] != nil {
            // torch ≥ 2.5 writes decoupled_weight_decay in both; older AdamW lacks it.
            result.name = hyperparameters["decoupled_weight_decay"] == 0 ? "Adam" : "AdamW"
        }
        return result
    }

    static func optimizerError(_ file: String, _ problem: String) -> CheckpointError {
        CheckpointError(description: "\(file): the optimizer state_dict \(problem)")
    }

    /// The parameter ids of every param group, in order.
    static func parameterIDs(_ groups: [PickleValue], file: String) throws -> [Int] {
        var ids: [Int] = []
        for (index, group) in groups.enumerated() {
            guard let params = group["params"]?.elements else {
                throw optimizerError(file, "param group \(index) lacks 'params'")
            }
            for p in params {
                guard let id = p.integer else {
                    throw optimizerError(file, "param group \(index) has the parameter id \(p.summary)")
                }
                ids.append(id)
            }
        }
        return ids
    }

    /// A param group's numeric settings; `betas` becomes `beta1` and `beta2`.
    static func hyperparameters(of group: PickleValue) -> [String: Double] {
        var hyperparameters: [String: Double] = [:]
        for entry in entries(group) {
            guard let key = entry.key.text else { continue }
            switch entry.value {
            case .int(let i): hyperparameters[key] = Double(i)
            case .float(let f): hyperparameters[key] = f
            case .bool(let b): hyperparameters[key] = b ? 1 : 0
            case .tuple(let items) where key == "betas" && items.count == 2:
                for (i, item) in items.enumerated() {
                    if case .float(let f) = item { hyperparameters["beta\(i + 1)"] = f }
                }
            default: break
            }
        }
        return hyperparameters
    }

    /// The per-parameter state entries, keyed by the parameter's position in
    /// `ids` and sorted by it.
    static func stateByParameter(_ state: PickleValue, ids: [Int], file: String) throws
        -> [(index: Int, entries: [PickleEntry])] {
        let position = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        var perParameter: [(index: Int, entries: [PickleEntry])] = []
        for entry in entries(state) {
            guard let id = entry.key.integer, let index = position[id] else {
                throw optimizerError(file, "has state for the parameter id \(entry.key.summary), which no param group lists")
            }
            guard isMapping(entry.value) else {
                throw optimizerError(file, "has \(entry.value.summary) as parameter \(id)'s state")
            }
            perParameter.append((index, entries(entry.value)))
        }
        return perParameter.sorted(by: { $0.index < $1.index })
    }

    /// Adds one parameter's state to `result`: Python numbers as scalars,
    /// tensors (one element, or the parameter's shape) as tensors.
    static func appendState(_ items: [PickleEntry], of parameter: (name: String, tensor: SafeTensor),
                            to result: inout TorchOptimizerState, reader: inout TensorReader) throws {
        for item in items {
            guard let key = item.key.text else { throw optimizerError(reader.file, "has the state key \(item.key.summary)") }
            switch item.value {
            case .none: continue  // SGD without momentum keeps momentum_buffer None
            case .int(let i): result.scalars.append((key, parameter.name, Double(i)))
            case .float(let f): result.scalars.append((key, parameter.name, f))
            default:
                let tensor = try reader.tensor(item.value, what: "optimizer state \(key) of \(parameter.name)")
                guard tensor.count == 1 || tensor.shape == parameter.tensor.shape else {
                    throw optimizerError(reader.file, "has \(key) of shape \(tensor.shape) for \(parameter.name) of shape \(parameter.tensor.shape): its parameter order does not match the state_dict")
                }
                result.tensors.append((key, parameter.name, tensor))
            }
        }
    }
}

extension SafeTensor {
    /// The values as Double (exact for every type but int64 beyond 2^53).
    public var doubles: [Double] {
        bytes.withUnsafeBytes { raw -> [Double] in
            switch type {
            case .f32: (0..<count).map { Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian)) }
            case .f64: (0..<count).map { Double(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian) }
            case .i64: int64s.map { Double($0) }
            case .i32: (0..<count).map { Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .u8, .bool: raw.map { Double($0) }
            }
        }
    }

    /// The values as Int64 (floats truncated toward zero; NaN and values
    /// beyond Int64's range give 0).
    public var int64s: [Int64] {
        guard type == .i64 else { return doubles.map { Int64(exactly: $0.rounded(.towardZero)) ?? 0 } }
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
    }
}
