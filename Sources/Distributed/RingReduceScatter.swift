import CMPI

/// A non-blocking ring reduce-scatter of `Int64` sums, from point-to-point
/// messages: `P − 1` steps, in each of which every rank sends one block to
/// its right neighbour and adds the block it receives from its left one, so
/// each rank sends and receives `(P−1)/P` of the buffer — the least any
/// algorithm can. Open MPI 4.1's `MPI_Ireduce_scatter_block` (libnbc) instead
/// reduces the whole buffer to rank 0 along a binomial tree and then scatters
/// it. Integer addition is exact, so the order of the ring gives the same
/// totals as any other. Each `test()` moves on as many steps as have arrived.
final class RingReduceScatter: PendingReduction {
    private let values: UnsafeMutablePointer<Int64>
    private let result: UnsafeMutablePointer<Int64>
    private let block: Int, rank: Int, size: Int
    private let comm: MPI_Comm
    private let firstTag: Int
    private let received: UnsafeMutablePointer<Int64>
    private var requests: [MPI_Request?] = [nil, nil]
    private var step = 0
    private var finished = false

    /// Tags below `MPI_TAG_UB`'s guaranteed 32,767; a reduce-scatter uses
    /// `P − 1` of them, and those in flight at once are far fewer than wrap.
    static let tagSpace = 32_768

    /// `values` (`[size, block]`) is summed in place; `serial` numbers the
    /// reduce-scatters on `comm` (the same on every rank) to keep their tags apart.
    init(_ values: UnsafeMutablePointer<Int64>, block: Int, into result: UnsafeMutablePointer<Int64>,
         rank: Int, size: Int, comm: MPI_Comm, serial: Int) {
        self.values = values
        self.result = result
        self.block = block
        self.rank = rank
        self.size = size
        self.comm = comm
        firstTag = serial * max(size - 1, 1) % Self.tagSpace
        received = .allocate(capacity: max(block, 1))
        if size > 1 { post() } else { complete() }
    }

    deinit { received.deallocate() }

    /// Step k sends block (rank − k − 1) mod P and receives block
    /// (rank − k − 2) mod P: the block sent is the one completed by the step
    /// before, and the last step completes block `rank`.
    private func segment(_ offset: Int) -> UnsafeMutablePointer<Int64> {
        values + ((rank - step - offset + 2 * size) % size) * block
    }

    private func post() {
        let tag = Int32((firstTag + step) % Self.tagSpace)
        let right = Int32((rank + 1) % size), left = Int32((rank - 1 + size) % size)
        _ = MPI_Irecv(received, Int32(block), MPI_INT64_T, left, tag, comm, &requests[0])
        _ = MPI_Isend(segment(1), Int32(block), MPI_INT64_T, right, tag, comm, &requests[1])
    }

    /// After both messages of the current step: add, then post the next step.
    private func finishStep() {
        let target = segment(2)
        for i in 0..<block { target[i] &+= received[i] }
        step += 1
        if step < size - 1 { post() } else { complete() }
    }

    private func complete() {
        result.update(from: values + rank * block, count: block)
        finished = true
    }

    func test() -> Bool {
        while !finished {
            var flag: Int32 = 0
            _ = MPI_Testall(2, &requests, &flag, nil)
            guard flag != 0 else { return false }
            finishStep()
        }
        return true
    }

    func wait() {
        while !finished {
            _ = MPI_Waitall(2, &requests, nil)
            finishStep()
        }
    }
}
