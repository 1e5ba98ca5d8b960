import CMPI
import Core
import Foundation

/// Open MPI's `MPI_COMM_WORLD`. Create one per process, first thing; it
/// initialises MPI (with `MPI_THREAD_FUNNELED`: only the main thread calls
/// MPI; the batch prefetcher never does) and finalises it on `finalize()`.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm
    /// Reduce-scatters started on this communicator (the same count on every rank).
    private var reduceScatters = 0

    public convenience init() {
        var provided: Int32 = 0
        MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
        // Errors abort the whole job (the default), so no rank hangs on a dead peer.
        self.init(comm: MPI_COMM_WORLD)
    }

    private init(comm: MPI_Comm) {
        self.comm = comm
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
    }

    /// Whether this process was started by `mpirun` (or another launcher of
    /// an MPI job), judged from the environment Open MPI sets.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil || env["PMI_RANK"] != nil
    }

    public func finalize() {
        MPI_Finalize()
    }

    public func allreduceMax(_ values: inout [Int32]) {
        values.withUnsafeMutableBufferPointer { v in
            _ = MPI_Allreduce(MPI_IN_PLACE, v.baseAddress, Int32(v.count), MPI_INT32_T, MPI_MAX, comm)
        }
    }

    public func allreduceSum(_ values: UnsafeMutablePointer<Int64>, count: Int) {
        _ = MPI_Allreduce(MPI_IN_PLACE, values, Int32(count), MPI_INT64_T, MPI_SUM, comm)
    }

    public func startAllreduceMax(_ values: UnsafeMutablePointer<Int32>, count: Int) -> PendingReduction {
        let pending = Request()
        _ = MPI_Iallreduce(MPI_IN_PLACE, values, Int32(count), MPI_INT32_T, MPI_MAX, comm, &pending.request)
        return pending
    }

    public func startReduceScatterSum(_ values: UnsafeMutablePointer<Int64>, block: Int,
                                      into result: UnsafeMutablePointer<Int64>) -> PendingReduction {
        defer { reduceScatters += 1 }
        return RingReduceScatter(values, block: block, into: result, rank: rank, size: size, comm: comm,
                                 serial: reduceScatters)
    }

    public func startAllgather(_ values: UnsafeMutablePointer<Float>, block: Int) -> PendingReduction {
        let pending = Request()
        _ = MPI_Iallgather(MPI_IN_PLACE, 0, MPI_FLOAT, values, Int32(block), MPI_FLOAT, comm, &pending.request)
        return pending
    }

    public func duplicate() -> Communicator {
        var copy: MPI_Comm? = nil
        _ = MPI_Comm_dup(comm, &copy)
        guard let copy else { preconditionFailure("MPI_Comm_dup returned no communicator") }
        return MPICommunicator(comm: copy)
    }

    public func broadcast(_ bytes: inout [UInt8], root: Int) {
        var count = Int64(bytes.count)
        _ = MPI_Bcast(&count, 1, MPI_INT64_T, Int32(root), comm)
        if bytes.count != Int(count) { bytes = [UInt8](repeating: 0, count: Int(count)) }
        bytes.withUnsafeMutableBufferPointer { b in
            _ = MPI_Bcast(b.baseAddress, Int32(b.count), MPI_UINT8_T, Int32(root), comm)
        }
    }

    public func allgather(_ value: UInt64) -> [UInt64] {
        var mine = value
        var all = [UInt64](repeating: 0, count: size)
        all.withUnsafeMutableBufferPointer { a in
            _ = MPI_Allgather(&mine, 1, MPI_UINT64_T, a.baseAddress, 1, MPI_UINT64_T, comm)
        }
        return all
    }

    public func allgather(_ text: String) -> [String] {
        let mine = Array(text.utf8)
        let counts = allgather(UInt64(mine.count)).map { Int32($0) }
        var offsets = [Int32](repeating: 0, count: size)
        for r in counts.indices.dropFirst() { offsets[r] = offsets[r - 1] + counts[r - 1] }
        var all = [UInt8](repeating: 0, count: Int(counts.reduce(0, +)))
        mine.withUnsafeBufferPointer { m in
            all.withUnsafeMutableBufferPointer { a in
                _ = MPI_Allgatherv(m.baseAddress, Int32(m.count), MPI_UINT8_T,
                                   a.baseAddress, counts, offsets, MPI_UINT8_T, comm)
            }
        }
        return counts.indices.map { r in
            String(decoding: all[Int(offsets[r])..<Int(offsets[r] + counts[r])], as: UTF8.self)
        }
    }

    public var processorName: String {
        var name = [CChar](repeating: 0, count: Int(MPI_MAX_PROCESSOR_NAME) + 1)
        var length: Int32 = 0
        MPI_Get_processor_name(&name, &length)
        return String(decoding: name.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func barrier() {
        MPI_Barrier(comm)
    }

    public func abort(code: Int32) -> Never {
        fflush(nil)
        MPI_Abort(comm, code)
        exit(code)
    }

    final class Request: PendingReduction {
        var request: MPI_Request? = nil
        private var completed = false

        func wait() {
            guard !completed else { return }
            _ = MPI_Wait(&request, nil)
            completed = true
        }

        func test() -> Bool {
            guard !completed else { return true }
            var flag: Int32 = 0
            _ = MPI_Test(&request, &flag, nil)
            completed = flag != 0
            return completed
        }
    }
}
