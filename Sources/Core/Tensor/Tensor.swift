/// A dense fp32 array with a shape, row-major (the last index varies fastest).
///
/// Activations of a spiking network are laid out `[T, N, C, H, W]`: time-major,
/// like the original's `out_all`, so one time step of a batch is contiguous.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]
    /// Set on a spiking layer's training output when its surrogate has a
    /// zero region: where the output's gradient can matter at all. Every
    /// initialiser leaves it nil; a copy keeps it, which is right only for
    /// layers that map elements one to one (dropout), the only ones that
    /// change a copy of their input. Not part of `==`.
    public var openWindow: OpenWindow?

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose values `initialize` writes, every one of them, without
    /// zeroing the memory first.
    public init(shape: [Int], initializingWith initialize: (UnsafeMutablePointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.shape = shape
        data = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { initialize(base) }
            initialized = count
        }
    }

    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public static func == (a: Tensor, b: Tensor) -> Bool { a.shape == b.shape && a.data == b.data }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Runs `body` with a pointer to the values. An empty tensor (a process
    /// holding no sample of a batch) passes a valid pointer to nothing.
    @inlinable
    public func withPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        guard !data.isEmpty else { return try [Float(0)].withUnsafeBufferPointer { try body($0.baseAddress!) } }
        return try data.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Runs `body` with a mutable pointer to the values.
    @inlinable
    public mutating func withMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        guard !data.isEmpty else {
            var none: [Float] = [0]
            return try none.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
        }
        return try data.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}

extension Tensor {
    /// The largest absolute value; NaN when any element is NaN.
    public var maxMagnitude: Float { data.reduce(0) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, abs($1)) } }

    /// Largest absolute difference to `other` divided by the largest magnitude
    /// in `other`: the relative error measure the fixture tests use. A NaN or
    /// an infinity in either tensor gives `.infinity` (Swift's `max` would
    /// drop a NaN difference and let an all-NaN result pass).
    public func relativeError(to other: Tensor) -> Float {
        precondition(shape == other.shape, "relativeError: shapes \(shape) and \(other.shape) differ")
        var maxDiff: Float = 0
        var scale: Float = .leastNormalMagnitude
        for i in 0..<data.count {
            guard data[i].isFinite, other.data[i].isFinite else { return .infinity }
            maxDiff = Swift.max(maxDiff, abs(data[i] - other.data[i]))
            scale = Swift.max(scale, abs(other.data[i]))
        }
        return maxDiff / scale
    }
}

extension Tensor {
    /// The samples `range` of every time step of a `[T, N, …]` tensor: `[T, range.count, …]`.
    public func samples(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 2 && range.lowerBound >= 0 && range.upperBound <= shape[1],
                     "Tensor.samples: \(range) of shape \(shape)")
        let steps = shape[0], perSample = count / (steps * shape[1])
        var out: [Float] = []
        out.reserveCapacity(steps * range.count * perSample)
        for t in 0..<steps {
            let start = (t * shape[1] + range.lowerBound) * perSample
            out.append(contentsOf: data[start..<(start + range.count * perSample)])
        }
        return Tensor(shape: [steps, range.count] + shape.dropFirst(2), data: out)
    }
}

extension Tensor {
    /// Direct encoding: the same static images `[N, C, H, W]` as the input of
    /// each of `timeSteps` steps, `[T, N, C, H, W]`.
    public func repeatedOverTime(_ timeSteps: Int) -> Tensor {
        Tensor(shape: [timeSteps] + shape, data: Array([[Float]](repeating: data, count: timeSteps).joined()))
    }

    /// Elementwise sum of two tensors of the same shape.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "Tensor +: shapes \(a.shape) and \(b.shape)")
        var out = a
        for i in 0..<out.count { out.data[i] += b.data[i] }
        return out
    }
}
