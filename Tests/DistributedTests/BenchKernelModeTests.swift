import Foundation
import XCTest

/// `bench --neuron-kernels` / `--conv-kernels` time kernels on one thread:
/// under mpirun every rank times its own copy, and each line says whose it is.
final class BenchKernelModeTests: XCTestCase {
    func testEveryRankSaysItsLines() throws {
        let r = try Tool.mpi(2, ["bench", "--neuron-kernels", "64", "-T", "2"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.output)
        for rank in 0..<2 {
            for model in ["LIF", "CLIF", "PLIF"] {
                XCTAssertTrue(r.output.contains("rank \(rank): \(model) T=2 × 64: forward "), "rank \(rank) \(model):\n\(r.output)")
            }
        }
    }

    func testOneProcessHasNoRankLabel() throws {
        let r = try Tool.run(try Tool.binary.path, ["bench", "--neuron-kernels", "64", "-T", "2"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("\nCLIF T=2 × 64: forward ") || r.output.hasPrefix("LIF T=2 × 64"), r.output)
        XCTAssertFalse(r.output.contains("rank 0:"), r.output)
    }
}
