import Foundation
import XCTest

/// When one rank fails, every rank stops soon, with a message naming the
/// rank and the cause, a non-zero status, and the last checkpoint intact.
final class FailureTests: XCTestCase {
    let arguments = ["train", "-dataset", "digits", "-model", "spiking_cnn_small", "-neuron", "CLIF",
                     "-b", "48", "-T", "2", "-epochs", "3", "-T_max", "3"]

    func testAnErrorOnOneRankStopsTheJob() throws {
        let out = try Tool.temporaryFolder("fail")
        // One epoch of digits is 30 steps of 48: fail in the second epoch.
        let r = try Tool.mpi(2, arguments + ["-out_dir", out.path], environment: ["CLIF_MPI_FAIL_AT": "1:40"], timeout: 120)
        XCTAssertNotEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("Error on rank 1 of 2: injected failure at step 40"), r.output)
        let checkpoint = try Tool.runFolder(out).appendingPathComponent("checkpoint_latest.safetensors")
        XCTAssertNoThrow(try Data(contentsOf: checkpoint), "the first epoch's checkpoint must survive")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Tool.runFolder(out).path).filter { $0.contains(".tmp") }
        XCTAssertEqual(leftovers, [])
        print("failure: job stopped \(String(format: "%.1f", r.seconds)) s after start")
    }

    func testKillingOneRankEndsTheJobQuickly() throws {
        let out = try Tool.temporaryFolder("kill")
        let process = try startLongJob(outDir: out, output: FileHandle.nullDevice)
        defer { if process.isRunning { process.terminate() } }
        // Wait for the first checkpoint, then kill rank 1 with SIGKILL.
        let deadline = Date().addingTimeInterval(60)
        var checkpoint: URL?
        while Date() < deadline, checkpoint == nil {
            Thread.sleep(forTimeInterval: 0.2)
            if let folder = try? Tool.runFolder(out) {
                let file = folder.appendingPathComponent("checkpoint_latest.safetensors")
                if FileManager.default.fileExists(atPath: file.path) { checkpoint = file }
            }
        }
        let saved = try XCTUnwrap(checkpoint, "no checkpoint within 60 s")
        let rank1 = try XCTUnwrap(Self.rankProcess(1, outDir: out), "rank 1's process not found")
        kill(rank1, SIGKILL)
        let killed = Date()
        while process.isRunning && Date().timeIntervalSince(killed) < 15 { Thread.sleep(forTimeInterval: 0.1) }
        let seconds = Date().timeIntervalSince(killed)
        XCTAssertFalse(process.isRunning, "mpirun still running \(seconds) s after rank 1 was killed")
        XCTAssertLessThan(seconds, 10)
        XCTAssertNotEqual(process.terminationStatus, 0)
        // The checkpoint on disk is a whole one (it parses).
        let data = try Data(contentsOf: saved)
        XCTAssertGreaterThan(data.count, 8)
        let headerLength = data.prefix(8).withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self)) }
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: data[8..<(8 + headerLength)]))
        print("kill -9: job ended \(String(format: "%.1f", seconds)) s after rank 1 was killed")
    }

    /// SIGTERM to one rank (as a batch scheduler sends it): every rank stops
    /// after the same step, rank 0 writes a resumable checkpoint, status 143.
    func testSigtermStopsEveryRankInOrder() throws {
        let out = try Tool.temporaryFolder("sigterm")
        let pipe = Pipe()
        let process = try startLongJob(outDir: out, output: pipe)
        defer { if process.isRunning { process.terminate() } }
        // Let it train a little, then signal rank 1 only.
        var rank1: pid_t?
        let deadline = Date().addingTimeInterval(30)
        while rank1 == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.2); rank1 = Self.rankProcess(1, outDir: out) }
        Thread.sleep(forTimeInterval: 2)
        kill(try XCTUnwrap(rank1, "rank 1 not found"), SIGTERM)
        let signalled = Date()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 10)
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertTrue(text.contains("stopped by a stop signal after step"), text)
        XCTAssertFalse(text.contains("MPI_ABORT"), text)
        let checkpoint = try Tool.runFolder(out).appendingPathComponent("checkpoint_latest.safetensors")
        let resumed = try Tool.run(try Tool.binary.path, arguments + ["-epochs", "50", "--max-steps", "1000000",
                                                                       "-out_dir", out.path, "-resume", checkpoint.path,
                                                                       "-epochs", "1"])
        XCTAssertTrue(resumed.output.contains("start epoch:"), resumed.output)
    }

    /// Starts a 2-rank, 50-epoch training in the background, its output to `output`.
    func startLongJob(outDir: URL, output: Any) throws -> Process {
        guard let mpirun = Tool.mpirun else { throw XCTSkip("mpirun is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun)
        process.arguments = ["-np", "2", "--oversubscribe", try Tool.binary.path] + arguments + ["-epochs", "50", "-out_dir", outDir.path]
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"; env["OMPI_MCA_pml"] = "ob1"
        process.environment = env
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }

    /// The pid of the clif-mpi process that runs as `rank` (from its environment)
    /// of the job writing to `outDir` (other jobs may run on the machine).
    static func rankProcess(_ rank: Int, outDir: URL) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = pid_t(entry),
                  let cmdline = try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8),
                  cmdline.hasPrefix("/") && cmdline.contains("clif-mpi\u{0}train"), !cmdline.contains("mpirun"),
                  cmdline.contains(outDir.path),
                  let environ = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/environ"))
            else { continue }
            let variables = String(decoding: environ, as: UTF8.self).split(separator: "\u{0}")
            if variables.contains(where: { $0 == "OMPI_COMM_WORLD_RANK=\(rank)" }) { return pid }
        }
        return nil
    }
}
