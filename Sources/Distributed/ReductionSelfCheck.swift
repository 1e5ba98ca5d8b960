import Core
import Foundation

/// The distributed reducer against `LocalReducer` bit for bit, on awkward
/// tensors, under any number of ranks (`clif-mpi reduction-check`, a test
/// mode of the DistributedTests): two rounds, as two training steps use one
/// reducer, of deferred gradient sums with blocking sums between them, as
/// BatchNorm's during backward.
public enum ReductionSelfCheck {
    public struct Result {
        /// This rank's mismatches, worded.
        public let mismatches: [String]
        /// Every rank's mismatch count, indexed by rank.
        public let failuresPerRank: [UInt64]
        public let deferredSums: Int, blockingSums: Int
        /// This rank's traffic.
        public let traffic: ReductionTraffic
    }

    /// Element counts of the tensors: 1, sizes around SIMD widths, sizes no
    /// rank count divides, and one larger than any bucket.
    public static let counts = [1, 7, 3, 8, 9, 1, 1023, 2, 70_001, 5, 1, 31, 4099, 1, 1]

    /// What the partials of tensor `t` hold.
    enum Values: CaseIterable {
        case mixedMagnitudes, zeros, oneNaN, oneInfinity, cancelling, tiny, huge
    }

    /// Partial `[chunk, element]` of tensor `t`, the same on every rank.
    static func partials(tensor t: Int, chunks: Int, count: Int) -> [Float] {
        let kind = Values.allCases[t % Values.allCases.count]
        var stream = RandomStream(seed: 13, UInt64(t))
        var values = (0..<(chunks * count)).map { _ -> Float in
            switch kind {
            case .zeros: return 0
            case .tiny: return stream.normal() * 0x1p-140
            case .huge: return stream.normal() * 0x1p100
            case .mixedMagnitudes, .oneNaN, .oneInfinity, .cancelling:
                return stream.normal() * Float(sign: .plus, exponent: stream.integer(below: 61) - 30, significand: 1)
            }
        }
        let last = chunks * count - 1
        switch kind {
        case .oneNaN: values[last] = .nan
        case .oneInfinity: values[last / 2] = -.infinity
        case .cancelling:
            // Chunk c + 1 holds −(chunk c): totals near zero, all bits of the integers matter.
            for c in Swift.stride(from: 1, to: chunks, by: 2) {
                for i in 0..<count { values[c * count + i] = -values[(c - 1) * count + i] }
            }
        default: break
        }
        return values
    }

    /// What a layer's backward does between two sums: chunks on the worker
    /// threads, during which the reducer's polling hook moves buckets on.
    static func computeChunks() {
        Parallel.forEach(8) { _ in usleep(300) }
    }

    /// Runs the check on every rank (collective) over `chunks` chunks with
    /// buckets of `bucketElements` elements.
    public static func run(_ session: Session, chunks: Int, bucketElements: Int) -> Result {
        let layout = session.shard.layout(batch: chunks, chunkSize: 1)
        let reducer = DistributedReducer(session.communicator, bucketElements: bucketElements)
        var mismatches: [String] = [], delivered: [Int] = []
        func compare(_ name: String, _ got: [Float], _ expected: [Float]) {
            if got.count != expected.count || zip(got, expected).contains(where: { $0.bitPattern != $1.bitPattern }) {
                mismatches.append("\(name): \(got.prefix(4)) instead of \(expected.prefix(4))")
            }
        }
        for round in 0..<2 {
            delivered.removeAll()
            for (t, count) in counts.enumerated() {
                let all = partials(tensor: t, chunks: chunks, count: count)
                let expected = LocalReducer().sum(all, chunks: chunks, count: count)
                let own = Array(all[(layout.globalOffset * count)..<((layout.globalOffset + layout.chunkCount) * count)])
                reducer.sumDeferred(own, chunks: layout.chunkCount, count: count) { totals in
                    // A layer's delivery runs Parallel loops too (the weight layout transposes).
                    computeChunks()
                    compare("round \(round) deferred tensor \(t) (\(count) elements)", totals, expected)
                    delivered.append(t)
                }
                computeChunks()
                if t % 3 == 0 {
                    compare("round \(round) blocking tensor \(t)", reducer.sum(own, chunks: layout.chunkCount, count: count), expected)
                }
            }
            reducer.finishPending()
            if delivered != Array(counts.indices) { mismatches.append("round \(round) delivered in the order \(delivered)") }
        }
        return Result(mismatches: mismatches, failuresPerRank: session.communicator.allgather(UInt64(mismatches.count)),
                      deferredSums: 2 * counts.count, blockingSums: 2 * ((counts.count + 2) / 3), traffic: reducer.traffic)
    }
}
