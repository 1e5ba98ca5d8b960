import Foundation

/// Rebuilds tensors from data.pkl's `_rebuild_tensor_v2` records and the
/// archive's storage entries, gathering strided views into contiguous bytes.
struct TensorReader {
    let archive: ZipArchive
    /// `<archive>/`, the folder of data.pkl.
    let prefix: String
    let file: String
    private var storages: [String: (type: SafeTensorsType, bytes: Data)] = [:]

    init(zip: ZipArchive, prefix: String, file: String) {
        self.archive = zip; self.prefix = prefix; self.file = file
    }

    private func fail(_ what: String, _ problem: String) -> CheckpointError {
        CheckpointError(description: "\(file): \(what) \(problem)")
    }

    /// The tensor a `_rebuild_tensor_v2` (or `_rebuild_parameter`) call describes.
    mutating func tensor(_ value: PickleValue, what: String) throws -> SafeTensor {
        guard case .call(let call) = value else {
            throw fail(what, "is \(value.summary), expected a tensor")
        }
        if call.callee == PickleGlobal("torch._utils", "_rebuild_parameter") {
            // _rebuild_parameter(data, requires_grad, backward_hooks)
            guard let data = call.arguments.first else { throw fail(what, "is a parameter without data") }
            return try tensor(data, what: what)
        }
        guard call.callee == PickleGlobal("torch._utils", "_rebuild_tensor_v2") else {
            throw fail(what, "is a call of \(call.callee), expected a tensor")
        }
        let view = try self.view(call.arguments, what: what)
        let storage = try self.storage(view.storage, what: what)
        let count = try elementCount(view, what: what)
        if count > 0 { try checkLastElement(view, available: storage.bytes.count / storage.type.size, what: what) }
        let bytes = Self.contiguousBytes(view, count: count, storage: storage.bytes, elementSize: storage.type.size)
        return SafeTensor(type: storage.type, shape: view.shape, bytes: bytes)
    }

    /// Where a tensor's elements lie in its storage, counted in elements.
    private struct StridedView {
        /// The persistent id of the storage.
        let storage: PickleValue
        let offset: Int
        let shape: [Int]
        let stride: [Int]
    }

    /// The view `_rebuild_tensor_v2`'s arguments describe, with a
    /// non-negative offset, size and stride of equal rank.
    private func view(_ args: [PickleValue], what: String) throws -> StridedView {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        guard args.count == 6 || args.count == 7, case .persistent(let id) = args[0],
              let offset = args[1].integer, let sizeItems = args[2].elements, let strideItems = args[3].elements
        else { throw fail(what, "has _rebuild_tensor_v2 arguments that are not (storage, offset, size, stride, …)") }
        let shape = sizeItems.compactMap(\.integer), stride = strideItems.compactMap(\.integer)
        guard shape.count == sizeItems.count, stride.count == strideItems.count, shape.count == stride.count,
              shape.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }), offset >= 0
        else { throw fail(what, "has an invalid size \(sizeItems.map(\.summary)), stride or offset \(offset)") }
        return StridedView(storage: id, offset: offset, shape: shape, stride: stride)
    }

    /// count = ∏ size, refused when it overflows.
    private func elementCount(_ view: StridedView, what: String) throws -> Int {
        var count = 1
        for n in view.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail(what, "has the size \(view.shape), too large") }
            count = product
        }
        return count
    }

    /// Refuses a non-empty view whose last element,
    /// offset + Σ (size_i − 1)·stride_i, lies outside the storage's `available` elements.
    private func checkLastElement(_ view: StridedView, available: Int, what: String) throws {
        var last = view.offset
        for (n, s) in zip(view.shape, view.stride) {
            let (step, o1) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(step)
            guard !o1, !o2 else { throw fail(what, "has the stride \(view.stride), too large") }
            last = sum
        }
        guard last < available else {
            throw fail(what, "reads element \(last) (offset \(view.offset), size \(view.shape), stride \(view.stride)) of a storage of \(available) elements (corrupt checkpoint)")
        }
    }

    /// The view's `count` elements in row-major order: a slice of the
    /// storage when the view is already contiguous, a gathered copy otherwise.
    /// The view must have been checked against the storage.
    private static func contiguousBytes(_ view: StridedView, count: Int, storage: Data, elementSize size: Int) -> Data {
        guard count > 0 else { return Data() }
        // Row-major strides of the shape; computed only for a non-empty
        // tensor, whose partial products are bounded by `count` (an empty
        // one may have other dimensions of any size).
        let shape = view.shape
        var contiguous = [Int](repeating: 1, count: shape.count)
        for i in view.stride.indices.reversed().dropFirst() { contiguous[i] = contiguous[i + 1] * shape[i + 1] }
        if zip(shape, view.stride).enumerated().allSatisfy({ $1.0 == 1 || $1.1 == contiguous[$0] }) {
            let base = storage.startIndex
            return Data(storage[(base + view.offset * size)..<(base + (view.offset + count) * size)])
        }
        return gather(view, count: count, storage: storage, elementSize: size)
    }

    /// Copies the view's elements one by one, walking the index in row-major
    /// order like an odometer.
    private static func gather(_ view: StridedView, count: Int, storage: Data, elementSize size: Int) -> Data {
        let shape = view.shape, stride = view.stride
        var out = Data(count: count * size)
        var index = [Int](repeating: 0, count: shape.count)
        storage.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
            out.withUnsafeMutableBytes { (target: UnsafeMutableRawBufferPointer) in
                var element = view.offset
                for i in 0..<count {
                    target.baseAddress!.advanced(by: i * size)
                        .copyMemory(from: source.baseAddress!.advanced(by: element * size), byteCount: size)
                    var d = shape.count - 1
                    while d >= 0 {
                        index[d] += 1
                        element += stride[d]
                        if index[d] < shape[d] { break }
                        element -= stride[d] * shape[d]
                        index[d] = 0
                        d -= 1
                    }
                }
            }
        }
        return out
    }

    /// The storage a persistent id `('storage', torch.<T>Storage, key, location, numel)` names.
    private mutating func storage(_ id: PickleValue, what: String) throws -> (type: SafeTensorsType, bytes: Data) {
        guard let parts = id.elements, parts.count == 5, parts[0].text == "storage",
              case .global(let global) = parts[1], let key = parts[2].text, let numel = parts[4].integer, numel >= 0
        else { throw fail(what, "has the storage id \(id.summary), expected ('storage', type, key, location, numel)") }
        guard let type = TorchCheckpoint.storageTypes[global.name], global.module == "torch" else {
            throw fail(what, "is stored as \(global); clif-mpi reads float32, float64, int64, int32, uint8 and bool tensors — convert it (tensor.float()) and save again")
        }
        if let cached = storages[key] {
            guard cached.type == type else {
                throw fail(what, "uses storage \(key) as \(type.rawValue), elsewhere it is \(cached.type.rawValue)")
            }
            return cached
        }
        let entry = "\(prefix)data/\(key)"
        guard archive.contains(entry) else {
            throw fail(what, "refers to storage \(key), but the archive has no entry \(entry) (truncated or edited checkpoint)")
        }
        let bytes = try archive.contents(of: entry)
        guard numel <= bytes.count / type.size, bytes.count == numel * type.size else {
            throw fail(what, "refers to storage \(key) of \(numel) \(type.rawValue) elements (\(numel &* type.size) bytes), but \(entry) holds \(bytes.count) bytes (corrupt checkpoint)")
        }
        storages[key] = (type, bytes)
        return (type, bytes)
    }
}
