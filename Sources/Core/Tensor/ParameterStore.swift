/// The element type a named tensor has in a `state_dict`.
public enum StoredType: String, Sendable {
    case float32 = "F32"
    /// Integer counters such as BatchNorm's `num_batches_tracked`, kept as
    /// exact small integers in fp32 and written as int64.
    case int64 = "I64"
}

/// One named tensor inside a flat store.
public struct StoreEntry: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public let type: StoredType
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
}

/// All tensors of one kind (trainable parameters, or buffers such as running
/// statistics) in one flat fp32 array with named views, so the optimiser, the
/// checkpoint writer and the gradient allreduce each see a single buffer.
public final class ParameterStore {
    public private(set) var entries: [StoreEntry] = []
    public private(set) var index: [String: Int] = [:]
    public var values: [Float] = []
    /// Gradients, same layout as `values`; zeroed once per step.
    public var gradients: [Float] = []

    public init() {}

    /// Adds a tensor and returns its view.
    @discardableResult
    public func register(_ name: String, shape: [Int], initial: [Float], type: StoredType = .float32) -> StoreEntry {
        precondition(index[name] == nil, "ParameterStore: \(name) registered twice")
        let count = shape.reduce(1, *)
        precondition(initial.count == count, "ParameterStore: \(name) shape \(shape) needs \(count) values, got \(initial.count)")
        let entry = StoreEntry(name: name, shape: shape, offset: values.count, type: type)
        index[name] = entries.count
        entries.append(entry)
        values.append(contentsOf: initial)
        gradients.append(contentsOf: repeatElement(0, count: count))
        return entry
    }

    public subscript(name: String) -> StoreEntry? {
        index[name].map { entries[$0] }
    }

    public var count: Int { values.count }

    /// The values of one tensor.
    public func tensor(_ entry: StoreEntry) -> Tensor {
        Tensor(shape: entry.shape, data: Array(values[entry.range]))
    }

    /// The gradient of one tensor.
    public func gradient(_ entry: StoreEntry) -> Tensor {
        Tensor(shape: entry.shape, data: Array(gradients[entry.range]))
    }

    /// Overwrites one tensor's values.
    public func set(_ entry: StoreEntry, _ data: [Float]) {
        precondition(data.count == entry.count, "ParameterStore.set \(entry.name): \(data.count) values for shape \(entry.shape)")
        values.replaceSubrange(entry.range, with: data)
    }

    public func zeroGradients() {
        gradients.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Adds `delta` to the gradient of `entry`.
    public func accumulateGradient(_ entry: StoreEntry, _ delta: UnsafePointer<Float>) {
        gradients.withUnsafeMutableBufferPointer { g in
            let base = g.baseAddress! + entry.offset
            for i in 0..<entry.count { base[i] += delta[i] }
        }
    }
}
