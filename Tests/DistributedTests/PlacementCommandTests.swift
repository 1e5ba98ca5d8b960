import Foundation
import XCTest

/// A job whose ranks compute different bits (simulated on one rank with
/// `CLIF_MPI_PERTURB_PROBE`) stops at start-up on every rank with one message
/// naming the ranks, unless `--allow-heterogeneous`; a job whose ranks agree
/// is unaffected.
final class PlacementCommandTests: XCTestCase {
    let arguments = ["train", "-dataset", "digits", "-model", "spiking_cnn_small", "-neuron", "CLIF",
                     "-b", "48", "-T", "2", "-epochs", "1", "-T_max", "1", "--max-steps", "2"]

    func testARankThatComputesOtherBitsStopsTheJob() throws {
        let out = try Tool.temporaryFolder("heterogeneous")
        let r = try Tool.mpi(3, arguments + ["-out_dir", out.path], environment: ["CLIF_MPI_PERTURB_PROBE": "2"],
                             timeout: 120)
        XCTAssertNotEqual(r.status, 0, r.output)
        for fragment in ["Error: ranks 0-1 on ", "and rank 2 on ", "compute different bits (OpenBLAS kernel, CPU, libm or build differ)",
                         "OpenBLAS core ", "pass --allow-heterogeneous to run anyway"] {
            XCTAssertTrue(r.output.contains(fragment), "lacks '\(fragment)': \(r.output)")
        }
        XCTAssertEqual(r.output.components(separatedBy: "compute different bits").count - 1, 1, "one message: \(r.output)")
        XCTAssertFalse(r.output.contains("Error on rank"), "an orderly stop, not a failure of one rank: \(r.output)")
        XCTAssertFalse(r.output.contains("MPI_ABORT"), r.output)
        XCTAssertFalse(r.output.contains("parameters),"), "built the run before stopping: \(r.output)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [], "wrote into -out_dir")
        print("heterogeneous: stopped \(String(format: "%.1f", r.seconds)) s after start: \(r.output.split(separator: "\n").first ?? "")")
    }

    func testAllowHeterogeneousTrainsWithANote() throws {
        let out = try Tool.temporaryFolder("heterogeneous-allowed")
        let r = try Tool.mpi(3, arguments + ["-out_dir", out.path, "--allow-heterogeneous"],
                             environment: ["CLIF_MPI_PERTURB_PROBE": "2"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("note: ranks 0-1 on "), r.output)
        XCTAssertTrue(r.output.contains("with --allow-heterogeneous this run goes on, and its results depend on which ranks run where"), r.output)
        XCTAssertTrue(r.output.contains("stopped by --max-steps after step 2"), r.output)
        let checkpoint = try Tool.runFolder(out).appendingPathComponent("checkpoint_latest.safetensors")
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.path), r.output)
    }

    /// infer, energy and bench sum exactly across ranks too: they check at the same place.
    func testEveryJobCommandChecks() throws {
        let commands = [["bench", "--neuron-kernels", "64", "-T", "2"],
                        ["energy", "-model", "spiking_cnn_small", "-dataset", "digits", "-neuron", "CLIF", "-T", "2"],
                        ["infer", "--checkpoint", "/nonexistent/checkpoint.safetensors"]]
        for command in commands {
            let r = try Tool.mpi(2, command, environment: ["CLIF_MPI_PERTURB_PROBE": "1"], timeout: 120)
            XCTAssertNotEqual(r.status, 0, "\(command[0]): \(r.output)")
            XCTAssertTrue(r.output.contains("Error: rank 0 on "), "\(command[0]): \(r.output)")
            XCTAssertTrue(r.output.contains("and rank 1 on "), "\(command[0]): \(r.output)")
        }
    }

    /// Two ranks that agree (here with different --threads each) run as before:
    /// no message, and the plain process's checkpoint bytes.
    func testAgreeingRanksAreUnaffected() throws {
        guard let mpirun = Tool.mpirun else { throw XCTSkip("mpirun is not installed") }
        let out = try Tool.temporaryFolder("homogeneous")
        let binary = try Tool.binary.path
        let args = arguments + ["-out_dir", out.path]
        let plain = try Tool.run(binary, args, timeout: 120)
        XCTAssertEqual(plain.status, 0, plain.output)
        let checkpoint = try Tool.runFolder(out).appendingPathComponent("checkpoint_latest.safetensors")
        let expected = try Data(contentsOf: checkpoint)
        try FileManager.default.removeItem(at: Tool.runFolder(out))
        // One job of two ranks, one with --threads 1 and one with --threads 2 (MPMD).
        let r = try Tool.run(mpirun, ["--oversubscribe", "-np", "1", binary] + args + ["--threads", "1", ":",
                                      "-np", "1", binary] + args + ["--threads", "2"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("2 processes"), r.output)
        XCTAssertFalse(r.output.contains("compute different bits"), r.output)
        XCTAssertEqual(try Data(contentsOf: checkpoint), expected, "2 ranks differ from the plain process")
    }
}
