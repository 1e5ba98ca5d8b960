import Foundation

/// A model described by a checkpoint, as `infer`, `energy` and `export-nir`
/// read it: each setting is the command's flag, else what the checkpoint's
/// recorded run arguments hold, else a default (or an error naming the flag
/// to pass); then the dataset and the network those settings name, and the
/// checkpoint's weights loaded into it.
///
/// A clif-mpi checkpoint (safetensors) records the arguments of the run that
/// wrote it; the original's PyTorch `.pth` records none, so its flags (or
/// the defaults) say what the model is.
public struct CheckpointedModel: Sendable {
    /// The checkpoint, nil for a freshly initialised model.
    public let path: String?
    /// The option that named the checkpoint (`--checkpoint`, `-resume`), for messages.
    public let flag: String
    /// The run arguments the checkpoint records: none for a `.pth` or without a checkpoint.
    public let recorded: RunArguments

    /// Reads the arguments the checkpoint at `path` records.
    /// - Throws: `CheckpointError` naming `flag` and the file when it cannot
    ///   be read, is not a checkpoint, or its recorded arguments are damaged.
    public init(path: String?, flag: String) throws {
        guard let path else {
            self.init(path: nil, flag: flag, recorded: RunArguments())
            return
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw CheckpointError(description: "\(flag) \(path): cannot read it (\(error.localizedDescription))")
        }
        let recorded: RunArguments
        do {
            recorded = TorchCheckpoint.isTorchFile(data) ? RunArguments()
                : try RunArguments.recorded(in: SafeTensorsFile(data: data, name: path).metadata, file: path)
        } catch let error as SafeTensorsError {
            throw CheckpointError(description: "\(flag): \(error.description)")
        } catch let error as CheckpointError {
            throw CheckpointError(description: "\(flag): \(error.description)")
        }
        self.init(path: path, flag: flag, recorded: recorded)
    }

    /// A model whose checkpoint records `recorded` (already read).
    public init(path: String?, flag: String, recorded: RunArguments) {
        self.path = path
        self.flag = flag
        self.recorded = recorded
    }

    /// The flag's `value`, else what the checkpoint records under `key`,
    /// read by `parse`. With neither it fails naming `name`, the flag to pass.
    public func setting<Value>(_ value: Value?, _ key: String, pass name: String,
                               parse: (String) -> Value?) throws -> Value {
        if let value { return value }
        if let value = recorded[key].flatMap(parse) { return value }
        throw CheckpointError(description: path.map { "\(flag) \($0) does not record \(key); pass \(name)" }
                              ?? "without \(flag), pass \(name)")
    }

    /// `setting(_:_:pass:parse:)` of a text value.
    public func setting(_ value: String?, _ key: String, pass name: String) throws -> String {
        try setting(value, key, pass: name, parse: { $0 })
    }

    /// The flag's `value`, else what the checkpoint records under `key`
    /// (read by `parse`), else `fallback` (the original's default).
    public func setting<Value>(_ value: Value?, _ key: String, otherwise fallback: Value,
                               parse: (String) -> Value?) -> Value {
        value ?? recorded[key].flatMap(parse) ?? fallback
    }

    /// `setting(_:_:otherwise:parse:)` of a text value.
    public func setting(_ value: String?, _ key: String, otherwise fallback: String) -> String {
        value ?? recorded[key] ?? fallback
    }

    /// `-model` and `-dataset`: each flag, else what the checkpoint records.
    /// - Throws: `CheckpointError` naming the flag to pass when neither says.
    public func modelAndDataset(model: String?, dataset: String?) throws -> (model: String, dataset: String) {
        (try setting(model, "model", pass: "-model"), try setting(dataset, "dataset", pass: "-dataset"))
    }

    /// `-T`: the flag, else what the checkpoint records, else the original's 6.
    public func timeSteps(_ flag: Int?) -> Int { setting(flag, "T", otherwise: 6) { Int($0) } }

    /// `-tau`: the flag, else what the checkpoint records, else the original's 2.0.
    public func tau(_ flag: Float?) -> Float { setting(flag, "tau", otherwise: 2.0) { Float($0) } }

    /// The neuron the checkpoint was trained with, when it records it.
    public var trainedNeuron: String? { recorded["neuron_model"] }

    /// How the recorded run cut event streams into frames (spikingjelly's `split_by`; default by count).
    public var frameSplit: FrameSplit { recorded["split_by"].flatMap(FrameSplit.init(rawValue:)) ?? .number }

    /// The dataset `name` from `directory` (the flag, else the recorded
    /// `data_dir`, else `./data`), event streams cut into `frames` frames.
    /// - Throws: `DataError` naming `-dataset`.
    public func dataset(_ name: String, directory: String?, frames: Int) throws -> LoadedDataset {
        let folder = setting(directory, "data_dir", otherwise: "./data")
        do {
            return try DatasetCatalog.load(name, dataDirectory: URL(fileURLWithPath: folder), frames: frames, split: frameSplit)
        } catch let error as DataError {
            throw DataError("-dataset \(name): \(error.description)")
        }
    }

    /// The network `model` names for `data`'s shape, initialised from `seed`
    /// (the checkpoint's weights are loaded by `loadWeights`).
    public func network(_ model: String, for data: LoadedDataset, activation: Activation,
                        dropout: Float = 0, seed: UInt64 = 2022) throws -> Network {
        try ModelFactory.make(ModelSpec(name: model, inChannels: data.channels, classes: data.classes,
                                        height: data.height, width: data.width, activation: activation,
                                        dropout: dropout, seed: seed))
    }

    /// Loads the weights of the checkpoint at `file` (this one's unless
    /// given, e.g. `-pre_train`'s) into `network`; `read` gives its bytes
    /// (under mpirun, rank 0's copy on every rank). Returns the training
    /// state it records, nil for a bare state dict; nothing without a checkpoint.
    /// - Throws: `CheckpointError` or `SafeTensorsError` naming the file.
    @discardableResult
    public func loadWeights(into network: Network, file: String? = nil,
                            read: (String) throws -> Data = Self.bytes(of:)) throws -> TrainingState? {
        guard let file = file ?? path else { return nil }
        return try Checkpoint.load(read(file), name: file, into: network)
    }

    /// The bytes of the checkpoint file at `path`, read by this process.
    /// - Throws: `CheckpointError` naming the file and the cause.
    public static func bytes(of path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CheckpointError(description: "cannot read checkpoint \(path): \(error.localizedDescription)")
        }
    }
}
