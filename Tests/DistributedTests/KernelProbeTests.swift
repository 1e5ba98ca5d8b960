import Core
import Distributed
import Foundation
import XCTest

/// The kernel probe the ranks of a job compare at start-up: a pure function
/// of its inputs (whatever the thread counts), sensitive to them, cheap; and
/// the message that names the groups of ranks.
final class KernelProbeTests: XCTestCase {
    func testFingerprintIsDeterministicForAnyThreadCount() {
        Parallel.configure(workers: 1)
        let first = KernelProbe.fingerprint()
        XCTAssertEqual(KernelProbe.fingerprint(), first, "the same probe twice")
        // Other worker counts, and an OpenBLAS left multi-threaded by someone else
        // (the probe pins it to one thread, as training does).
        Parallel.configure(workers: 3)
        Gemm.setThreads(2)
        XCTAssertEqual(KernelProbe.fingerprint(), first, "with 3 workers and OpenBLAS on 2 threads")
        // Two threads probing at once (no shared state).
        var concurrent = [UInt64](repeating: 0, count: 2)
        concurrent.withUnsafeMutableBufferPointer { results in
            let out = results.baseAddress!
            Parallel.forEach(2) { out[$0] = KernelProbe.fingerprint() }
        }
        XCTAssertEqual(concurrent, [first, first], "two threads at once")
        Parallel.configure(workers: 1)
        print(String(format: "kernel probe fingerprint %016llx, OpenBLAS core %@", first, Gemm.coreName))
    }

    /// Other inputs give another fingerprint (as other kernel bits would): the comparison can fail.
    func testFingerprintDependsOnTheBitsComputed() {
        XCTAssertNotEqual(KernelProbe.fingerprint(seed: KernelProbe.seed &+ 1), KernelProbe.fingerprint())
    }

    func testProbeIsCheap() {
        Parallel.configure(workers: 1)
        var times: [Double] = []
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = KernelProbe.fingerprint()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-6)
        }
        print(String(format: "kernel probe: %.1f ms first, %.1f ms best of 3", times[0], times.min()!))
        XCTAssertLessThan(times.min()!, 100, "the probe must stay well under 100 ms")
    }

    func testSummaryNamesTheRanksOfEachHostAndGroup() {
        func rank(_ host: String, _ core: String, _ fingerprint: UInt64) -> Placement.Rank {
            Placement.Rank(host: host, blasCore: core, fingerprint: fingerprint)
        }
        let two = Placement(ranks: Array(repeating: rank("hostA", "Haswell", 0x1f), count: 4)
                            + Array(repeating: rank("hostB", "SkylakeX", 0xabc), count: 4))
        XCTAssertFalse(two.computesSameBits)
        XCTAssertEqual(two.groups, [[0, 1, 2, 3], [4, 5, 6, 7]])
        XCTAssertEqual(two.summary, "ranks 0-3 on hostA (OpenBLAS core Haswell, probe 000000000000001f) and ranks 4-7 on hostB (OpenBLAS core SkylakeX, probe 0000000000000abc)")
        // Hosts interleaved, one group spanning two hosts, a lone rank.
        let mixed = Placement(ranks: [rank("a", "Haswell", 1), rank("b", "Zen", 1), rank("a", "Haswell", 1),
                                      rank("a", "Haswell", 1), rank("c", "Prescott", 2), rank("b", "Zen", 1)])
        XCTAssertEqual(mixed.summary, "ranks 0, 2-3 on a, ranks 1, 5 on b (OpenBLAS core Haswell/Zen, probe 0000000000000001) and rank 4 on c (OpenBLAS core Prescott, probe 0000000000000002)")
        XCTAssertEqual(mixed.blasCores, ["Haswell", "Zen", "Prescott"])
        let agreeing = Placement(ranks: [rank("a", "Haswell", 7), rank("b", "Zen", 7), rank("c", "Haswell", 7)])
        XCTAssertTrue(agreeing.computesSameBits)
        XCTAssertEqual(agreeing.groups, [[0, 1, 2]])
        XCTAssertEqual(agreeing.blasCores, ["Haswell", "Zen"])
    }
}
