import Foundation

extension TorchCheckpoint {
    /// A clif-mpi checkpoint (the layout `Checkpoint.encode` writes) holding a
    /// `.pth`'s contents, so `-resume`, `-pre_train` and `infer` can use it.
    ///
    /// Model tensors keep their names: floating tensors become F32, integer
    /// and bool tensors I64 (`num_batches_tracked`). Optimiser state becomes
    /// `optimizer.<state>.<parameter>` (F32; a parameter the optimiser has not
    /// stepped gets zeros, which clif-mpi's SGD and AdamW treat as "no state
    /// yet" exactly as torch does) and AdamW's per-parameter `step` the
    /// scalar `step`. The original's `epoch` is the last epoch trained, so
    /// the metadata's `epoch` (epochs completed) is `epoch + 1`.
    ///
    /// - Parameters:
    ///   - model: the model name recorded in the metadata (`spiking_vgg11_bn`).
    ///   - arguments: the run's arguments (a `.pth` records none).
    ///   - globalStep: optimiser steps taken; defaults to AdamW's `step`, else 0
    ///     (the original does not save it).
    public static func safetensorsData(_ contents: TorchCheckpointContents, model: String = "",
                                       arguments: RunArguments = RunArguments(), globalStep: Int? = nil) -> Data {
        var writer = SafeTensorsWriter()
        for (name, tensor) in contents.tensors {
            switch tensor.type {
            case .f32, .f64: writer.add(name, shape: tensor.shape, floats: tensor.floats)
            case .i64, .i32, .u8, .bool: writer.add(name, shape: tensor.shape, int64s: tensor.int64s)
            }
        }
        var metadata = ["format": Checkpoint.format, "model": model]
        var step: Double?
        if let optimizer = contents.optimizer {
            var stateNames: [String] = []
            var byKey: [String: SafeTensor] = [:]
            for (state, parameter, tensor) in optimizer.tensors {
                if state == "step" {
                    step = max(step ?? 0, tensor.doubles.first ?? 0)
                    continue
                }
                if !stateNames.contains(state) { stateNames.append(state) }
                byKey["\(state).\(parameter)"] = tensor
            }
            for (state, _, value) in optimizer.scalars where state == "step" { step = max(step ?? 0, value) }
            for state in stateNames.sorted() {
                for parameter in optimizer.parameters {
                    let shape = contents.tensor(parameter)?.shape ?? []
                    let values = byKey["\(state).\(parameter)"]?.floats
                        ?? [Float](repeating: 0, count: shape.reduce(1, *))
                    writer.add("optimizer.\(state).\(parameter)", shape: shape, floats: values)
                }
            }
            metadata["optimizer"] = optimizer.name
            metadata["optimizer_scalars"] = step.map { "step=\(Float($0))" } ?? ""
        }
        if let epoch = contents.epoch {
            metadata["epoch"] = String(epoch + 1)
            metadata["global_step"] = String(globalStep ?? Int(exactly: (step ?? 0).rounded()) ?? 0)
            metadata["max_test_acc"] = String(contents.maxTestAccuracy ?? 0)
            metadata["batch_in_epoch"] = "0"
            metadata["epoch_sums"] = "0.0,0.0,0.0,0.0"
            metadata[RunArguments.metadataKey] = arguments.json
            // A .pth was not summed by clif-mpi's chunks: there is no rule to
            // keep, so a run resumed from it takes the default chunk size.
            metadata["chunk_samples"] = String(BatchLayout.defaultChunkSamples)
        }
        writer.metadata = metadata
        return writer.data()
    }
}

extension TorchCheckpoint {
    /// The contents of a clif-mpi checkpoint as the original's `.pth` holds
    /// them (the inverse of `safetensorsData`), for `pthData`.
    ///
    /// Model tensors are put in PyTorch's `state_dict` order: modules in the
    /// order their first tensor appears in the file (clif-mpi writes the
    /// parameters in model order), each module's parameters, then its
    /// buffers. The optimiser's parameter order is that order without the
    /// BatchNorm buffers. `epoch` becomes the original's index of the last
    /// epoch trained (epochs completed − 1; a run stopped mid-epoch resumes
    /// at the start of that epoch). `hyperparameters` (`lr`, `momentum`,
    /// `weight_decay`, `initial_lr`, …) fill the optimiser's param group.
    public static func contents(ofSafeTensors file: SafeTensorsFile,
                                hyperparameters: [String: Double] = [:]) -> TorchCheckpointContents {
        let prefix = "optimizer."
        let model = file.names.filter { !$0.hasPrefix(prefix) }
        var modules: [String] = []
        var members: [String: [String]] = [:]
        for name in model {
            let module = name.split(separator: ".").dropLast().joined(separator: ".")
            if members[module] == nil { modules.append(module) }
            members[module, default: []].append(name)
        }
        let ordered = modules.flatMap { module in
            let names = members[module] ?? []
            return names.filter { !isBuffer($0) } + names.filter { isBuffer($0) }
        }
        var contents = TorchCheckpointContents(tensors: ordered.compactMap { name in file.tensors[name].map { (name, $0) } })
        let parameters = ordered.filter { !isBuffer($0) }
        if let name = file.metadata["optimizer"], !name.isEmpty {
            var optimizer = TorchOptimizerState(name: name, tensors: [], scalars: [], hyperparameters: hyperparameters,
                                                parameters: parameters)
            // optimizer.<state>.<parameter>: state names have no dots.
            let states = file.names.filter { $0.hasPrefix(prefix) }
                .compactMap { $0.dropFirst(prefix.count).split(separator: ".").first.map(String.init) }
            var seen: [String] = []
            for state in states where !seen.contains(state) { seen.append(state) }
            let scalars = (file.metadata["optimizer_scalars"] ?? "").split(separator: ";").compactMap { item -> (String, Double)? in
                let parts = item.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let value = Double(parts[1].split(separator: ",").first ?? "") else { return nil }
                return (String(parts[0]), value)
            }
            for parameter in parameters {
                for (state, value) in scalars { optimizer.scalars.append((state, parameter, value)) }
                for state in seen {
                    if let tensor = file.tensors["\(prefix)\(state).\(parameter)"] {
                        optimizer.tensors.append((state, parameter, tensor))
                    }
                }
            }
            contents.optimizer = optimizer
        }
        if let epoch = file.metadata["epoch"].flatMap(Int.init) {
            contents.epoch = epoch - 1
            contents.maxTestAccuracy = file.metadata["max_test_acc"].flatMap(Double.init) ?? 0
        }
        return contents
    }
}
