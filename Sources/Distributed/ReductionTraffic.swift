/// What one rank's reductions put on the wire: bytes sent and received and
/// the number of collectives, since the last reset.
///
/// The byte counts are those of the bandwidth-optimal (ring) algorithm of
/// each collective over `ranks` ranks — what any algorithm must move at
/// least, and exactly what two ranks move: an allreduce of `n` bytes sends
/// and receives `2(P−1)/P·n`, a reduce-scatter or an allgather whose whole
/// buffer is `n` bytes `(P−1)/P·n`. Open MPI may pick another algorithm for
/// small messages (recursive doubling sends more bytes in fewer rounds).
public struct ReductionTraffic: Sendable, Equatable {
    public var bytesSent = 0
    public var bytesReceived = 0
    public var collectives = 0

    public init() {}

    /// Counts an allreduce of `bytes` over `ranks` ranks.
    mutating func allreduce(bytes: Int, ranks: Int) {
        add(2 * (ranks - 1) * bytes / max(ranks, 1), ranks: ranks)
    }

    /// Counts a reduce-scatter or allgather whose whole buffer (all ranks'
    /// blocks) is `bytes`.
    mutating func scatterOrGather(bytes: Int, ranks: Int) {
        add((ranks - 1) * bytes / max(ranks, 1), ranks: ranks)
    }

    /// Counts a broadcast of `bytes` as received (and passed on) once by every rank.
    mutating func broadcast(bytes: Int, ranks: Int) {
        add(bytes, ranks: ranks)
    }

    /// A group of one process moves nothing and runs no collective.
    private mutating func add(_ bytes: Int, ranks: Int) {
        guard ranks > 1 else { return }
        bytesSent += bytes
        bytesReceived += bytes
        collectives += 1
    }
}
