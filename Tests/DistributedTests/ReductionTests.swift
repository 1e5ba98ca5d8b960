import Core
import Distributed
import Foundation
import XCTest

/// The bucketed reduction (exponent vector, reduce-scatter, allgather) gives
/// `LocalReducer`'s bits for every rank count: `clif-mpi reduction-check`
/// sums 15 awkward tensors per round (1 to 70,001 elements, sizes no rank
/// count divides; zeros, a NaN, an infinity, cancelling chunks, subnormal
/// and huge magnitudes, magnitudes 2^±30 apart) deferred and blocking,
/// interleaved, two rounds on one reducer, and compares every total's bits
/// and the delivery order.
final class ReductionTests: XCTestCase {
    func check(ranks: Int?, _ extra: [String] = []) throws {
        let args = ["reduction-check"] + extra
        let r = try ranks.map { try Tool.mpi($0, args) } ?? Tool.run(try Tool.binary.path, args)
        XCTAssertEqual(r.status, 0, "\(ranks.map { "\($0) ranks" } ?? "one plain process") \(extra):\n\(r.output)")
        XCTAssertTrue(r.output.contains("identical bits to LocalReducer"), r.output)
        print(r.output.split(separator: "\n").filter { $0.contains("reduction check") }.joined(separator: "\n"))
    }

    /// One process reduces locally, with no collectives to time or count.
    func testSingleProcessMakesLocalReducer() {
        let reducer = SingleProcess().makeReducer()
        XCTAssertTrue(reducer is LocalReducer, "\(type(of: reducer))")
        XCTAssertEqual(reducer.communicationSeconds, 0)
        XCTAssertEqual(reducer.traffic, ReductionTraffic())
    }

    /// 5 chunks over 1–4 ranks (uneven shares), buckets of 64 elements (many
    /// buckets, tensors split across ranks at every offset).
    func testSmallBucketsMatchLocalReducerForOneToFourRanks() throws {
        try check(ranks: nil)
        for ranks in [1, 2, 3, 4] { try check(ranks: ranks) }
    }

    /// More ranks than chunks: ranks 3–6 hold nothing and still take part;
    /// one chunk in all (the partials are the totals).
    func testRanksWithoutChunks() throws {
        try check(ranks: 7, ["--chunks", "3"])
        try check(ranks: 3, ["--chunks", "1"])
    }

    /// With worker threads, buckets also move on from inside the Parallel
    /// loops between sums (the reducer's polling hook) and the delivery
    /// closures run Parallel loops themselves: still every total's bits, each
    /// delivered once, in order.
    func testBucketsMovedOnFromInsideParallelLoops() throws {
        try check(ranks: nil, ["--threads", "3"])
        for ranks in [2, 3] { try check(ranks: ranks, ["--threads", "2"]) }
        try check(ranks: 2, ["--threads", "2", "--bucket-elements", "1"])
    }

    /// The default bucket size (all tensors in one or two buckets) and
    /// buckets of one element (one tensor each).
    func testOtherBucketSizes() throws {
        try check(ranks: 3, ["--bucket-elements", "\(1 << 20)", "--chunks", "8"])
        try check(ranks: 2, ["--bucket-elements", "1"])
    }
}
