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
    /// Starts an integer sum in place; `wait` on the result completes it.
    func startAllreduceSum(_ values: UnsafeMutablePointer<Int64>, count: Int) -> PendingReduction
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
}

/// The group of one process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceMax(_ values: inout [Int32]) {}
    public func allreduceSum(_ values: UnsafeMutablePointer<Int64>, count: Int) {}
    public func startAllreduceSum(_ values: UnsafeMutablePointer<Int64>, count: Int) -> PendingReduction { Completed() }
    public func broadcast(_ bytes: inout [UInt8], root: Int) {}
    public func allgather(_ value: UInt64) -> [UInt64] { [value] }
    public func allgather(_ text: String) -> [String] { [text] }
    public var processorName: String { ProcessInfo.processInfo.hostName }
    public func barrier() {}
    public func abort(code: Int32) -> Never { exit(code) }

    final class Completed: PendingReduction { func wait() {} }
}

