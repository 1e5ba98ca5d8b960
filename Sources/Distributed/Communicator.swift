import Core
import Foundation

/// The collective operations clif-mpi needs from a group of processes.
/// `SingleProcess` is the group of one; `MPICommunicator` wraps Open MPI.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Element-wise maximum over all ranks, in place.
    func allreduceMax(_ values: inout [Int32])
    /// Element-wise integer sum over all ranks, in place (exact, any order).
    func allreduceSum(_ values: UnsafeMutablePointer<Int64>, count: Int)
    /// Starts an element-wise maximum over all ranks, in place; `values`
    /// must stay valid until the result completes.
    func startAllreduceMax(_ values: UnsafeMutablePointer<Int32>, count: Int) -> PendingReduction
    /// Starts the integer sum over all ranks of `values` (`[size, block]`,
    /// overwritten), of which this rank receives row `rank` in `result` (`[block]`).
    func startReduceScatterSum(_ values: UnsafeMutablePointer<Int64>, block: Int,
                               into result: UnsafeMutablePointer<Int64>) -> PendingReduction
    /// Starts gathering every rank's row of `values` (`[size, block]`; this
    /// rank's own row, `rank`, is already in place) into every rank's copy.
    func startAllgather(_ values: UnsafeMutablePointer<Float>, block: Int) -> PendingReduction
    /// A communicator over the same ranks whose collectives never match this
    /// one's, so non-blocking collectives of different kinds can be started
    /// in orders that differ between ranks. Collective: every rank calls it.
    func duplicate() -> Communicator
    /// Rank `root`'s bytes everywhere.
    func broadcast(_ bytes: inout [UInt8], root: Int)
    /// Every rank's 64-bit value, indexed by rank.
    func allgather(_ value: UInt64) -> [UInt64]
    /// Every rank's text, indexed by rank.
    func allgather(_ text: String) -> [String]
    /// The name of the host this rank runs on (`MPI_Get_processor_name`).
    var processorName: String { get }
    func barrier()
    /// Stops every rank of the job with `code` after `message` was printed.
    func abort(code: Int32) -> Never
}

/// A non-blocking collective in flight.
public protocol PendingReduction: AnyObject {
    func wait()
    /// Whether it has completed; the call also lets MPI progress it.
    func test() -> Bool
}

/// The group of one process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceMax(_ values: inout [Int32]) {}
    public func allreduceSum(_ values: UnsafeMutablePointer<Int64>, count: Int) {}
    public func startAllreduceMax(_ values: UnsafeMutablePointer<Int32>, count: Int) -> PendingReduction { Completed() }
    public func startReduceScatterSum(_ values: UnsafeMutablePointer<Int64>, block: Int,
                                      into result: UnsafeMutablePointer<Int64>) -> PendingReduction {
        result.update(from: values, count: block)
        return Completed()
    }
    public func startAllgather(_ values: UnsafeMutablePointer<Float>, block: Int) -> PendingReduction { Completed() }
    public func duplicate() -> Communicator { self }
    public func broadcast(_ bytes: inout [UInt8], root: Int) {}
    public func allgather(_ value: UInt64) -> [UInt64] { [value] }
    public func allgather(_ text: String) -> [String] { [text] }
    public var processorName: String { ProcessInfo.processInfo.hostName }
    public func barrier() {}
    public func abort(code: Int32) -> Never { exit(code) }

    final class Completed: PendingReduction {
        func wait() {}
        func test() -> Bool { true }
    }
}

