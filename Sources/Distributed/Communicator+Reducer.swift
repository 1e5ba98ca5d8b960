import Core

/// A batch reducer that reports what its collectives cost: the figures
/// `train` and `bench` print (zero on a single process, which has none).
public protocol MeteredReducer: BatchReducer {
    /// Seconds spent in collectives since the last `resetTimer()`.
    var communicationSeconds: Double { get }
    /// The part of `communicationSeconds` spent waiting for gradient sums
    /// after backward.
    var exposedGradientSeconds: Double { get }
    /// This rank's traffic since the last `resetTraffic()`.
    var traffic: ReductionTraffic { get }
    func resetTimer()
    func resetTraffic()
}

extension DistributedReducer: MeteredReducer {}

extension LocalReducer: MeteredReducer {
    public var communicationSeconds: Double { 0 }
    public var exposedGradientSeconds: Double { 0 }
    public var traffic: ReductionTraffic { ReductionTraffic() }
    public func resetTimer() {}
    public func resetTraffic() {}
}

extension Communicator {
    /// The batch reducer of a run on this group: `LocalReducer` for a
    /// single process, else a `DistributedReducer` (the same bits; one
    /// process needs no buckets or collectives). Collective: every rank
    /// calls it at the same point.
    public func makeReducer() -> MeteredReducer {
        size > 1 ? DistributedReducer(self) : LocalReducer()
    }
}
