import Foundation

/// What a checkpoint holds besides the tensors.
public struct TrainingState: Sendable, Equatable {
    /// Epochs completed (the next epoch to run is `epoch`).
    public var epoch: Int
    /// Batches of epoch `epoch` already trained (0 at an epoch boundary):
    /// a run stopped mid-epoch resumes at the next batch.
    public var batchInEpoch: Int = 0
    /// Running sums of the interrupted epoch's training figures (loss·n,
    /// top-1 hits, top-5 hits, samples), so a resumed epoch reports the same.
    public var epochSums: [Double] = [0, 0, 0, 0]
    /// Optimiser steps taken so far.
    public var globalStep: Int
    public var maxTestAccuracy: Double
    /// The run's arguments (`RunArguments`; none for a converted `.pth`).
    public var arguments: RunArguments
    public var model: String
    /// Samples per reduction chunk of the run (`TrainingOptions.chunkSamples`);
    /// nil in checkpoints written before it was recorded, which used
    /// `BatchLayout.legacyChunkSamples`.
    public var chunkSamples: Int?
    /// The run's global batch size (`-b`); nil in checkpoints written before
    /// it was recorded (`recordedBatchSize` then reads it from `arguments`).
    public var batchSize: Int?

    public init(epoch: Int, globalStep: Int, maxTestAccuracy: Double, arguments: RunArguments, model: String) {
        self.epoch = epoch; self.globalStep = globalStep; self.maxTestAccuracy = maxTestAccuracy
        self.arguments = arguments; self.model = model
    }
}

/// Checkpoints as safetensors files: the model's tensors under their PyTorch
/// `state_dict` names (`conv1.weight`, `layer1.0.bn1.running_mean`, …,
/// `num_batches_tracked` as int64), the optimiser state as
/// `optimizer.<state>.<parameter name>` tensors, and the training state in
/// the header metadata. A PyTorch user loads the model with
/// `sd = safetensors.torch.load_file(path)` and
/// `model.load_state_dict({k: v for k, v in sd.items() if not k.startswith("optimizer.")})`.
public enum Checkpoint {
    public static let format = "clif-mpi-checkpoint/1"

    public static func encode(network: Network, optimizer: Optimizer?, optimizerName: String,
                              state: TrainingState) -> Data {
        var writer = SafeTensorsWriter()
        for store in [network.parameters, network.buffers] {
            for entry in store.entries {
                let values = Array(store.values[entry.range])
                switch entry.type {
                case .float32: writer.add(entry.name, shape: entry.shape, floats: values)
                case .int64: writer.add(entry.name, shape: entry.shape, int64s: values.map { Int64($0) })
                }
            }
        }
        var scalars: [String: String] = [:]
        if let optimizer {
            for (key, buffer) in optimizer.state.sorted(by: { $0.key < $1.key }) {
                if buffer.count == network.parameters.count {
                    for entry in network.parameters.entries {
                        writer.add("optimizer.\(key).\(entry.name)", shape: entry.shape, floats: Array(buffer[entry.range]))
                    }
                } else {
                    scalars[key] = buffer.map { String($0) }.joined(separator: ",")
                }
            }
        }
        writer.metadata = [
            "format": format,
            "model": state.model,
            "epoch": String(state.epoch),
            "global_step": String(state.globalStep),
            "max_test_acc": String(state.maxTestAccuracy),
            "batch_in_epoch": String(state.batchInEpoch),
            "epoch_sums": state.epochSums.map { String($0) }.joined(separator: ","),
            RunArguments.metadataKey: state.arguments.json,
            "optimizer": optimizerName,
            "optimizer_scalars": scalars.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: ";"),
        ]
        if let chunkSamples = state.chunkSamples { writer.metadata["chunk_samples"] = String(chunkSamples) }
        if let batchSize = state.batchSize { writer.metadata["batch_size"] = String(batchSize) }
        return writer.data()
    }

    public static func save(network: Network, optimizer: Optimizer?, optimizerName: String, state: TrainingState,
                            to url: URL) throws {
        try writeAtomically(encode(network: network, optimizer: optimizer, optimizerName: optimizerName, state: state),
                            to: url)
    }

    /// Loads the model tensors (and, when `optimizer` is given, its state)
    /// into `network`; every tensor of the model must be present with its shape.
    @discardableResult
    public static func load(from url: URL, into network: Network, optimizer: Optimizer? = nil) throws -> TrainingState? {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw CheckpointError(description: "\(url.path): cannot read the checkpoint (\(error.localizedDescription))")
        }
        return try load(data, name: url.path, into: network, optimizer: optimizer)
    }

    /// `load(from:)` on a checkpoint's bytes; `name` labels errors. A
    /// PyTorch `.pth` (the original's `torch.save` checkpoints) is read by
    /// `TorchCheckpoint` and converted first.
    @discardableResult
    public static func load(_ data: Data, name: String, into network: Network, optimizer: Optimizer? = nil) throws -> TrainingState? {
        let url = URL(fileURLWithPath: name)
        let bytes = TorchCheckpoint.isTorchFile(data)
            ? TorchCheckpoint.safetensorsData(try TorchCheckpoint.read(data, name: name)) : data
        let file = try SafeTensorsFile(data: bytes, name: name)
        for store in [network.parameters, network.buffers] {
            for entry in store.entries {
                guard let tensor = file.tensors[entry.name] else {
                    throw CheckpointError(description: "\(url.path): has no tensor \(entry.name) — it was written for another model (\(file.metadata["model"] ?? "unknown")); expected the tensors of this run's model")
                }
                guard tensor.shape == entry.shape else {
                    throw CheckpointError(description: "\(url.path): tensor \(entry.name) has shape \(tensor.shape), this model expects \(entry.shape) (different model, width or class count)")
                }
                store.set(entry, tensor.floats)
            }
        }
        if let optimizer {
            var state: [String: [Float]] = [:]
            let prefix = "optimizer."
            let keys = Set(file.names.filter { $0.hasPrefix(prefix) }.compactMap { $0.dropFirst(prefix.count).split(separator: ".").first.map(String.init) })
            for key in keys {
                var buffer = [Float](repeating: 0, count: network.parameters.count)
                for entry in network.parameters.entries {
                    guard let t = file.tensors["\(prefix)\(key).\(entry.name)"], t.shape == entry.shape else {
                        throw CheckpointError(description: "\(url.path): optimizer state \(key) lacks \(entry.name) or has the wrong shape")
                    }
                    buffer.replaceSubrange(entry.range, with: t.floats)
                }
                state[key] = buffer
            }
            state.merge(optimizerScalars(in: file.metadata), uniquingKeysWith: { $1 })
            optimizer.state = state
        }
        return try trainingState(in: file.metadata, file: url.path)
    }
}
