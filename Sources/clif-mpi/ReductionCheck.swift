import ArgumentParser
import Core
import Distributed
import Foundation

/// `clif-mpi reduction-check`: `ReductionSelfCheck` on this job's ranks (a
/// test mode of the DistributedTests, hidden from the help).
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
        try Job.run(job, session: { try arguments.check(in: $0) })
    }

    func check(in session: Session) throws {
        session.configureWorkers(threads)
        let result = ReductionSelfCheck.run(session, chunks: chunks, bucketElements: bucketElements)
        for line in result.mismatches { print("rank \(session.rank): \(line)") }
        guard session.isLeader else { return }
        guard result.failuresPerRank.allSatisfy({ $0 == 0 }) else {
            throw ValidationError("reduction check: mismatches per rank \(result.failuresPerRank)")
        }
        print("reduction check: \(result.deferredSums) deferred and \(result.blockingSums) blocking sums over \(chunks) chunks on \(session.size) rank(s) × \(threads) thread(s), buckets of \(bucketElements) elements: identical bits to LocalReducer (\(result.traffic.collectives) collectives, \(result.traffic.bytesSent) bytes sent by rank 0)")
    }
}
