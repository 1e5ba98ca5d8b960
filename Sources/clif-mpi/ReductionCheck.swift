import ArgumentParser
import Core
import Distributed
import Foundation

/// `clif-mpi reduction-check`: the distributed reducer against `LocalReducer`
/// bit for bit, on awkward tensors, under any number of ranks (a test mode of
/// the DistributedTests, hidden from the help).
struct ReductionCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reduction-check",
        abstract: "Check that the distributed reduction gives LocalReducer's bits (for the tests).",
        shouldDisplay: false)

    @Option(name: .customLong("chunks"), help: "Reduction chunks of the global batch.") var chunks = 5
    @Option(name: .customLong("bucket-elements"), help: "Elements per gradient bucket.") var bucketElements = 64
    @Option(name: .customLong("threads"), help: "Worker threads (above 1, buckets also move on from inside Parallel loops).") var threads = 1
    @OptionGroup var job: JobOptions

    func validate() throws {
        guard chunks > 0, bucketElements > 0, threads > 0 else {
            throw ValidationError("--chunks, --bucket-elements and --threads must be positive")
        }
    }

    func run() throws {
        let arguments = self
        try Job.run(job) { try arguments.check(on: $0) }
    }

    /// Element counts of the tensors: 1, sizes around SIMD widths, sizes no
    /// rank count divides, and one larger than any bucket.
    static let counts = [1, 7, 3, 8, 9, 1, 1023, 2, 70_001, 5, 1, 31, 4099, 1, 1]

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

    func check(on communicator: Communicator) throws {
        Parallel.configure(workers: threads)
        let layout = Shard(rank: communicator.rank, size: communicator.size).layout(batch: chunks, chunkSize: 1)
        let reducer = DistributedReducer(communicator, bucketElements: bucketElements)
        let counts = Self.counts
        var mismatches: [String] = [], delivered: [Int] = []
        func compare(_ name: String, _ got: [Float], _ expected: [Float]) {
            if got.count != expected.count || zip(got, expected).contains(where: { $0.bitPattern != $1.bitPattern }) {
                mismatches.append("\(name): \(got.prefix(4)) instead of \(expected.prefix(4))")
            }
        }
        // Two rounds, as two training steps use one reducer.
        for round in 0..<2 {
            delivered.removeAll()
            for (t, count) in counts.enumerated() {
                let all = Self.partials(tensor: t, chunks: chunks, count: count)
                let expected = LocalReducer().sum(all, chunks: chunks, count: count)
                let own = Array(all[(layout.globalOffset * count)..<((layout.globalOffset + layout.chunkCount) * count)])
                reducer.sumDeferred(own, chunks: layout.chunkCount, count: count) { totals in
                    // A layer's delivery runs Parallel loops too (the weight layout transposes).
                    Self.computeChunks()
                    compare("round \(round) deferred tensor \(t) (\(count) elements)", totals, expected)
                    delivered.append(t)
                }
                Self.computeChunks()
                // Blocking sums between deferred ones, as BatchNorm's during backward.
                if t % 3 == 0 {
                    compare("round \(round) blocking tensor \(t)", reducer.sum(own, chunks: layout.chunkCount, count: count), expected)
                }
            }
            reducer.finishPending()
            if delivered != Array(counts.indices) { mismatches.append("round \(round) delivered in the order \(delivered)") }
        }
        for line in mismatches { print("rank \(communicator.rank): \(line)") }
        let failed = communicator.allgather(UInt64(mismatches.count))
        guard communicator.rank == 0 else { return }
        let traffic = reducer.traffic
        guard failed.allSatisfy({ $0 == 0 }) else {
            throw ValidationError("reduction check: mismatches per rank \(failed)")
        }
        print("reduction check: \(2 * counts.count) deferred and \(2 * ((counts.count + 2) / 3)) blocking sums over \(chunks) chunks on \(communicator.size) rank(s) × \(threads) thread(s), buckets of \(bucketElements) elements: identical bits to LocalReducer (\(traffic.collectives) collectives, \(traffic.bytesSent) bytes sent by rank 0)")
    }
}
