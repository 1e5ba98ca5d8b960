import Foundation
import XCTest

/// Runs the built `clif-mpi` tool, alone or under mpirun, in tests.
enum Tool {
    /// The `clif-mpi` executable built next to the test bundle.
    static var binary: URL {
        get throws {
            var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = dir.appendingPathComponent("clif-mpi")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
            throw XCTSkip("the clif-mpi executable is not built next to the tests (run `swift build --build-tests`)")
        }
    }

    static var mpirun: String? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Result {
        let status: Int32
        let output: String
        let seconds: Double
    }

    /// Runs `executable arguments` (in `directory`, default the tests' own), killing it after `timeout` seconds.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    directory: URL? = nil, timeout: Double = 300) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_pml"] = "ob1"
        env["OMPI_MCA_btl"] = "self,vader,tcp"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let start = Date()
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                      seconds: Date().timeIntervalSince(start))
    }

    /// `mpirun -np ranks clif-mpi arguments` (oversubscribed where needed).
    static func mpi(_ ranks: Int, _ arguments: [String], environment: [String: String] = [:],
                    timeout: Double = 300) throws -> Result {
        guard let mpirun else { throw XCTSkip("mpirun is not installed") }
        return try run(mpirun, ["-np", "\(ranks)", "--oversubscribe", try binary.path] + arguments,
                       environment: environment, timeout: timeout)
    }

    /// A fresh empty folder.
    static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clif-mpi-tests-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Trains spiking_cnn_small with CLIF on the embedded digits (batch 64,
    /// `-T_max` = epochs) into a fresh folder: the run, and the path of the
    /// run's checkpoint `file` (empty when the run failed).
    static func trainDigits(_ name: String, timeSteps: Int, epochs: Int,
                            checkpoint file: String) throws -> (run: Result, checkpoint: String) {
        let out = try temporaryFolder(name)
        let run = try Tool.run(try binary.path, ["train", "-dataset", "digits", "-model", "spiking_cnn_small",
                                                 "-neuron", "CLIF", "-T", "\(timeSteps)", "-b", "64", "-epochs", "\(epochs)",
                                                 "-T_max", "\(epochs)", "-out_dir", out.path])
        guard run.status == 0 else { return (run, "") }
        return (run, try runFolder(out).appendingPathComponent(file).path)
    }

    /// The one run folder inside `outDir`.
    static func runFolder(_ outDir: URL) throws -> URL {
        let items = try FileManager.default.contentsOfDirectory(atPath: outDir.path)
        guard items.count == 1 else { throw XCTSkip("expected one run folder in \(outDir.path), found \(items)") }
        return outDir.appendingPathComponent(items[0])
    }
}
