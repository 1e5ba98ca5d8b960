/// A NumPy array read from a pickle without NumPy, in either form NumPy writes:
/// `numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')` + BUILD with the
/// state `(1, shape, dtype, is_fortran, raw)` (protocols 0–4; `numpy._core` in
/// NumPy 2), or `numpy._core.numeric._frombuffer(raw, dtype, shape, order)`
/// (protocol 5). The dtype is `numpy.dtype('u1', 0, 1)` + BUILD with the state
/// `(3, '|', None, None, None, -1, -1, 0)`, whose second item is the byte order.
public struct NumPyArray: Sendable, Equatable {
    /// The dtype kind: `u` unsigned, `i` signed, `f` float, `b` bool.
    public let kind: Character
    public let itemSize: Int
    public let isBigEndian: Bool
    public let shape: [Int]
    /// The elements in C (row-major) order, as stored.
    public let bytes: [UInt8]

    /// The dtype as NumPy spells it (`|u1`, `<i8`, `>i4`).
    public var dtype: String { (itemSize == 1 ? "|" : isBigEndian ? ">" : "<") + "\(kind)\(itemSize)" }
    public var count: Int { shape.reduce(1, *) }

    /// Decodes `value`; `source` (file and key) labels errors.
    public init(_ value: PickleValue, source: String) throws {
        func fail(_ what: String) -> DataError {
            DataError("\(source): expected a numpy array; \(what)")
        }
        guard case .call(let call) = value else { throw fail("found \(value.summary)") }
        let raw: PickleValue, dtypeValue: PickleValue, shapeValue: PickleValue, fortran: Bool
        switch call.callee.name {
        case "_reconstruct" where call.callee.module.hasSuffix("core.multiarray"):
            guard var state = call.state?.elements, state.count == 4 || state.count == 5 else {
                throw fail("_reconstruct without the state (version, shape, dtype, is_fortran, data)")
            }
            if state.count == 5 { state.removeFirst() }
            shapeValue = state[0]; dtypeValue = state[1]; raw = state[3]
            switch state[2] {
            case .bool(let b): fortran = b
            case .int(let i): fortran = i != 0
            default: throw fail("is_fortran is \(state[2].summary)")
            }
        case "_frombuffer" where call.callee.module.hasSuffix("core.numeric"):
            guard call.arguments.count == 4, let order = call.arguments[3].text else {
                throw fail("_frombuffer without the arguments (buffer, dtype, shape, order)")
            }
            raw = call.arguments[0]; dtypeValue = call.arguments[1]; shapeValue = call.arguments[2]
            fortran = order == "F"
        default:
            throw fail("found a call of \(call.callee)")
        }

        guard let dims = shapeValue.elements?.compactMap(\.integer), dims.count == shapeValue.elements?.count,
              dims.allSatisfy({ $0 >= 0 }) else { throw fail("the shape is \(shapeValue.summary)") }
        guard case .call(let dtype) = dtypeValue, dtype.callee == PickleGlobal("numpy", "dtype"),
              let code = dtype.arguments.first?.text, let order = dtype.state?.elements?.dropFirst().first?.text,
              let kind = code.first, "uifb".contains(kind), let size = Int(code.dropFirst()), [1, 2, 4, 8].contains(size),
              ["|", "<", ">", "="].contains(order)
        else { throw fail("the dtype is not a plain numeric one (found \(dtypeValue.summary))") }
        guard case .bytes(let data) = raw else { throw fail("the data is \(raw.summary), not raw bytes (an object array?)") }
        guard !fortran || dims.filter({ $0 > 1 }).count <= 1 else {
            throw fail("it is stored in Fortran order; save it in C order (numpy.ascontiguousarray)")
        }
        var elements = 1
        for d in dims {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("the shape \(dims) overflows") }
            elements = product
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: size)
        guard !overflow, byteCount == data.count else {
            throw fail("shape \(dims) of \(code) needs \(elements) × \(size) bytes but \(data.count) are stored")
        }
        self.kind = kind; self.itemSize = size; self.isBigEndian = order == ">"
        self.shape = dims; self.bytes = data
    }

    /// The elements of a `|u1` array.
    public func uint8Values(source: String) throws -> [UInt8] {
        guard kind == "u", itemSize == 1 else { throw DataError("\(source): expected a uint8 (|u1) array; found \(dtype)") }
        return bytes
    }

    /// The elements of any integer (or bool) array as `Int`.
    public func integerValues(source: String) throws -> [Int] {
        guard "uib".contains(kind) else { throw DataError("\(source): expected an integer array; found \(dtype)") }
        var values: [Int] = []
        values.reserveCapacity(count)
        for start in stride(from: 0, to: bytes.count, by: itemSize) {
            var raw: UInt64 = 0
            for i in 0..<itemSize {
                let byte = bytes[start + (isBigEndian ? i : itemSize - 1 - i)]
                raw = raw << 8 | UInt64(byte)
            }
            if kind == "i" {
                let shift = UInt64(64 - 8 * itemSize)
                values.append(Int(Int64(bitPattern: raw << shift) >> shift))  // sign-extend
            } else {
                guard let value = Int(exactly: raw) else { throw DataError("\(source): the uint64 \(raw) exceeds Int.max") }
                values.append(value)
            }
        }
        return values
    }
}

extension PickleValue {
    /// The integers of a list/tuple of ints or of a numpy integer array
    /// (CIFAR labels are a list; re-saved copies often hold an int64 array).
    public func integerArray(source: String) throws -> [Int] {
        if let items = elements {
            return try items.enumerated().map { i, item in
                guard let value = item.integer else { throw DataError("\(source): item \(i) is \(item.summary), not an int") }
                return value
            }
        }
        return try NumPyArray(self, source: source).integerValues(source: source)
    }
}
