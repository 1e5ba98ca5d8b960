import Foundation

extension TorchCheckpoint {
    /// The learning-rate scheduler the original saves under `lr_scheduler`.
    public struct SchedulerState: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// `CosineAnnealingLR(T_max, eta_min = 0)`: `lr0 (1 + cos(π e / T_max)) / 2`.
            case cosine(tMax: Int)
            /// `StepLR(step_size, gamma)`: `lr0 · gamma^⌊e / step_size⌋`.
            case step(stepSize: Int, gamma: Double)
        }
        public var kind: Kind
        public var baseLearningRate: Double
        /// Scheduler steps taken (`last_epoch`): epochs completed.
        public var lastEpoch: Int

        public init(kind: Kind, baseLearningRate: Double, lastEpoch: Int) {
            self.kind = kind; self.baseLearningRate = baseLearningRate; self.lastEpoch = lastEpoch
        }

        /// The learning rate after `lastEpoch` steps.
        public var learningRate: Double {
            switch kind {
            case .cosine(let tMax):
                return baseLearningRate * (1 + Foundation.cos(Double.pi * Double(lastEpoch) / Double(tMax))) / 2
            case let .step(stepSize, gamma):
                return baseLearningRate * Foundation.pow(gamma, Double(lastEpoch / stepSize))
            }
        }
    }

    /// A `.pth` file that `torch.load(path, weights_only=True)` reads: the
    /// original's `{'net': state_dict, 'optimizer': …, 'lr_scheduler': …,
    /// 'epoch': …, 'max_test_acc': …}` when `contents.epoch` is set, else the
    /// bare state_dict.
    ///
    /// The archive holds `<archive>/data.pkl` (protocol-2 pickle: dicts,
    /// `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` with
    /// persistent ids `('storage', torch.FloatStorage|LongStorage|…, key,
    /// 'cpu', numel)`), `<archive>/data/<key>` per tensor (contiguous,
    /// little-endian), `.format_version` (1), `.storage_alignment` (64),
    /// `byteorder` (little) and `version` (3), as torch 2.13 writes them.
    /// The optimiser state is `{'state': {id: {state: tensor}}, 'param_groups':
    /// [{hyperparameters…, 'params': [0 … n−1]}]}` with ids in
    /// `contents.optimizer.parameters` order; `step` scalars become 0-d
    /// float32 tensors, as torch keeps them.
    public static func pthData(_ contents: TorchCheckpointContents, scheduler: SchedulerState? = nil,
                               archiveName: String = "archive") throws -> Data {
        var storages: [(key: String, bytes: Data)] = []
        func tensor(_ t: SafeTensor) -> PickleValue {
            let key = String(storages.count)
            storages.append((key, t.bytes))
            let storage: String
            switch t.type {
            case .f32: storage = "FloatStorage"
            case .f64: storage = "DoubleStorage"
            case .i64: storage = "LongStorage"
            case .i32: storage = "IntStorage"
            case .u8: storage = "ByteStorage"
            case .bool: storage = "BoolStorage"
            }
            var strides = [Int](repeating: 1, count: t.shape.count)
            for i in strides.indices.reversed().dropFirst() { strides[i] = strides[i + 1] * t.shape[i + 1] }
            let id = PickleValue.tuple([.string("storage"), .global(PickleGlobal("torch", storage)), .string(key),
                                        .string("cpu"), .int(t.count)])
            return call("torch._utils", "_rebuild_tensor_v2", [
                .persistent(id), .int(0), .tuple(t.shape.map { .int($0) }), .tuple(strides.map { .int($0) }),
                .bool(false), orderedDict([]),
            ])
        }
        let net = orderedDict(contents.tensors.map { (PickleValue.string($0.name), tensor($0.tensor)) })
        let root: PickleValue
        if let epoch = contents.epoch {
            var items: [(String, PickleValue)] = [("net", net)]
            if let optimizer = contents.optimizer {
                items.append(("optimizer", optimizerDict(optimizer, scheduler: scheduler, tensor: tensor)))
            }
            if let scheduler { items.append(("lr_scheduler", schedulerDict(scheduler))) }
            items.append(("epoch", .int(epoch)))
            items.append(("max_test_acc", .float(contents.maxTestAccuracy ?? 0)))
            root = .dict(items.map { PickleEntry(key: .string($0.0), value: $0.1) })
        } else {
            root = net
        }
        var zip = ZipWriter()
        let folder = archiveName + "/"
        try zip.add(folder + "data.pkl", Data(Pickle.encode(root)))
        try zip.add(folder + ".format_version", Data("1".utf8))
        try zip.add(folder + ".storage_alignment", Data("64".utf8))
        try zip.add(folder + "byteorder", Data("little".utf8))
        for (key, bytes) in storages { try zip.add(folder + "data/" + key, bytes) }
        try zip.add(folder + "version", Data("3\n".utf8))
        return try zip.finished()
    }

    static func call(_ module: String, _ name: String, _ arguments: [PickleValue]) -> PickleValue {
        .call(PickleCall(callee: PickleGlobal(module, name), arguments: arguments, isNewObject: false, state: nil,
                         listItems: [], dictItems: []))
    }

    static func orderedDict(_ items: [(PickleValue, PickleValue)]) -> PickleValue {
        .call(PickleCall(callee: PickleGlobal("collections", "OrderedDict"), arguments: [], isNewObject: false,
                         state: nil, listItems: [], dictItems: items.map { PickleEntry(key: $0.0, value: $0.1) }))
    }

    static func dict(_ items: [(String, PickleValue)]) -> PickleValue {
        .dict(items.map { PickleEntry(key: .string($0.0), value: $0.1) })
    }

    /// `optimizer.state_dict()` of torch 2.13's SGD or AdamW.
    static func optimizerDict(_ optimizer: TorchOptimizerState, scheduler: SchedulerState?,
                              tensor: (SafeTensor) -> PickleValue) -> PickleValue {
        let h = optimizer.hyperparameters
        let initial = h["initial_lr"] ?? scheduler?.baseLearningRate ?? h["lr"] ?? 0
        let lr = h["lr"] ?? scheduler?.learningRate ?? initial
        var group: [(String, PickleValue)]
        if optimizer.name == "SGD" {
            group = [("lr", .float(lr)), ("momentum", .float(h["momentum"] ?? 0)), ("dampening", .float(h["dampening"] ?? 0)),
                     ("weight_decay", .float(h["weight_decay"] ?? 0)), ("nesterov", .bool(false)), ("maximize", .bool(false)),
                     ("foreach", .none), ("differentiable", .bool(false)), ("fused", .none)]
        } else {
            group = [("lr", .float(lr)), ("betas", .tuple([.float(h["beta1"] ?? 0.9), .float(h["beta2"] ?? 0.999)])),
                     ("eps", .float(h["eps"] ?? 1e-8)), ("weight_decay", .float(h["weight_decay"] ?? 0.01)),
                     ("amsgrad", .bool(false)), ("maximize", .bool(false)), ("foreach", .none), ("capturable", .bool(false)),
                     ("differentiable", .bool(false)), ("fused", .none),
                     ("decoupled_weight_decay", .bool(optimizer.name == "AdamW"))]
        }
        group.append(("initial_lr", .float(initial)))
        group.append(("params", .list(optimizer.parameters.indices.map { .int($0) })))
        var state: [(PickleValue, PickleValue)] = []
        for (id, parameter) in optimizer.parameters.enumerated() {
            var items: [(String, PickleValue)] = []
            for scalar in optimizer.scalars where scalar.parameter == parameter {
                // torch keeps `step` as a 0-d float32 tensor.
                items.append((scalar.state, tensor(SafeTensor(type: .f32, shape: [], bytes: withUnsafeBytes(of: Float(scalar.value).bitPattern.littleEndian) { Data($0) }))))
            }
            for t in optimizer.tensors where t.parameter == parameter {
                items.append((t.state, tensor(t.tensor)))
            }
            if !items.isEmpty { state.append((.int(id), dict(items))) }
        }
        return dict([("state", .dict(state.map { PickleEntry(key: $0.0, value: $0.1) })),
                     ("param_groups", .list([dict(group)]))])
    }

    /// `lr_scheduler.state_dict()` of torch 2.13's CosineAnnealingLR or StepLR.
    static func schedulerDict(_ s: SchedulerState) -> PickleValue {
        var items: [(String, PickleValue)]
        switch s.kind {
        case .cosine(let tMax): items = [("T_max", .int(tMax)), ("eta_min", .float(0))]
        case let .step(stepSize, gamma): items = [("step_size", .int(stepSize)), ("gamma", .float(gamma))]
        }
        items += [("base_lrs", .list([.float(s.baseLearningRate)])), ("last_epoch", .int(s.lastEpoch)),
                  ("_step_count", .int(s.lastEpoch + 1)), ("_is_initial", .bool(false)),
                  ("_get_lr_called_within_step", .bool(false)), ("_last_lr", .list([.float(s.learningRate)]))]
        return dict(items)
    }
}
