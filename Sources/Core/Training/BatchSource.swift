import Foundation

/// Cuts a split into batches: the order of each epoch is a permutation that
/// is a pure function of (seed, epoch), and each sample's augmentation a pure
/// function of (seed, epoch, dataset index) — so any process can prepare any
/// part of any batch and get the same values.
public struct BatchSource: Sendable {
    public let set: any SampleSet
    public let batchSize: Int
    public let normalization: Normalization
    public let augmentation: Augmentation
    public let shuffle: Bool
    public let seed: UInt64
    /// Leave out the last batch when it is incomplete (PyTorch's `drop_last`).
    public let dropLast: Bool

    public init(set: any SampleSet, batchSize: Int, normalization: Normalization, augmentation: Augmentation,
                shuffle: Bool, seed: UInt64, dropLast: Bool = false) {
        precondition(batchSize > 0, "BatchSource: batch size \(batchSize)")
        self.set = set; self.batchSize = batchSize; self.normalization = normalization
        self.augmentation = augmentation; self.shuffle = shuffle; self.seed = seed; self.dropLast = dropLast
    }

    /// Batches per epoch; the last one is smaller when the batch size does not
    /// divide the split, unless `dropLast` leaves it out.
    public var batchCount: Int { dropLast ? set.count / batchSize : (set.count + batchSize - 1) / batchSize }

    /// Dataset indices in the order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<set.count)
        guard shuffle else { return order }
        var stream = RandomStream(seed: seed, name: "shuffle", UInt64(epoch))
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, stream.integer(below: i + 1)) }
        return order
    }

    /// Dataset indices of batch `index` of an epoch order.
    public func indices(of index: Int, in order: [Int]) -> ArraySlice<Int> {
        order[(index * batchSize)..<min((index + 1) * batchSize, order.count)]
    }

    /// Prepares the samples `indices` (augmented when `augmentation` is on):
    /// `[N, C, H, W]` images, or frames transposed to `[T, N, C, H, W]`.
    public func prepare(_ indices: ArraySlice<Int>, epoch: Int) -> Batch {
        let image = set.channels * set.height * set.width, n = indices.count
        let steps = set.framesPerSample
        var images = Tensor(zeros: (steps.map { [$0] } ?? []) + [n, set.channels, set.height, set.width])
        let sample = ScratchBuffer(count: set.preparedSize)
        images.withMutablePointer { out in
            for (j, index) in indices.enumerated() {
                var stream = RandomStream(seed: seed, name: "augment", UInt64(epoch), UInt64(index))
                set.prepare(index, augmentation: augmentation, normalization: normalization, stream: &stream,
                            into: sample.pointer)
                // Frame t of sample j goes to [t, j].
                for t in 0..<(steps ?? 1) {
                    (out + (t * n + j) * image).update(from: sample.pointer + t * image, count: image)
                }
            }
        }
        return Batch(images: images, labels: indices.map { set.labels[$0] })
    }

    /// This process's part `local` (positions in the global batch) of global
    /// batch `batch`, `global` its dataset indices, mixed as `mixing` draws it.
    /// Position p is paired with position p − 1 of the whole batch, so the
    /// partner of the first local sample is prepared here as well (any process
    /// prepares any sample identically).
    public func prepareMixed(_ global: ArraySlice<Int>, local: Range<Int>, epoch: Int, batch: Int,
                             mixing: BatchMixing) -> Batch {
        guard !local.isEmpty else {
            return Batch(images: Tensor(zeros: [0, set.channels, set.height, set.width]), labels: [], softTargets: [])
        }
        let b = global.count
        let positions = [(local.lowerBound - 1 + b) % b] + Array(local)
        let prepared = prepare(ArraySlice(positions.map { global[global.startIndex + $0] }), epoch: epoch)
        let draw = mixing.draw(seed: seed, epoch: epoch, batch: batch, height: set.height, width: set.width)
        return BatchMixing.apply(draw, images: prepared.images, labels: prepared.labels, classes: set.classes)
    }
}

/// Prepares batches one ahead on a background thread while the current one trains.
public final class Prefetcher: @unchecked Sendable {
    private let queue = DispatchQueue(label: "clif-mpi.prefetch")
    private var pending: [Int: DispatchWorkItem] = [:]
    private var results: [Int: Batch] = [:]
    private let lock = NSLock()
    private let make: @Sendable (Int) -> Batch

    /// `make(i)` prepares batch `i`.
    public init(_ make: @escaping @Sendable (Int) -> Batch) { self.make = make }

    /// Starts preparing batch `i` in the background.
    public func request(_ i: Int) {
        let item = DispatchWorkItem { [make, lock] in
            let batch = make(i)
            lock.lock(); self.results[i] = batch; lock.unlock()
        }
        lock.lock(); pending[i] = item; lock.unlock()
        queue.async(execute: item)
    }

    /// Batch `i`, waiting for it if it was requested, preparing it here otherwise.
    public func take(_ i: Int) -> Batch {
        lock.lock(); let item = pending.removeValue(forKey: i); lock.unlock()
        guard let item else { return make(i) }
        item.wait()
        lock.lock(); defer { lock.unlock() }
        return results.removeValue(forKey: i)!
    }
}
