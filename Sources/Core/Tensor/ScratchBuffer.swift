/// A fixed-size fp32 work buffer with a stable address, for kernels that
/// need temporary matrices (im2col columns, gathered gradients, partial sums).
/// Its contents are undefined until written (no zeroing pass): every user
/// writes each value before reading it.
public final class ScratchBuffer {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
    }

    deinit { pointer.deallocate() }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
