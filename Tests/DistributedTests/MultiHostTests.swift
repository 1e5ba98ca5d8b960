import Foundation
import XCTest

/// `clif-mpi train` across two "hosts" — network namespaces on one machine,
/// joined by a bridge and talking TCP (hostfiles/netns-hosts.sh) — must write
/// the same checkpoint bytes as one plain process. Needs root, iproute2 and
/// Open MPI; skipped otherwise. Each run takes about 2 s; the budgets, with
/// 5 s to stop a program and 10 s to clean up after each test, keep the whole
/// class under 2 minutes even when something hangs.
final class MultiHostTests: XCTestCase {
    static let trainingBudget: TimeInterval = 70
    static let placementBudget: TimeInterval = 20

    static let repository = URL(fileURLWithPath: #filePath)   // Tests/DistributedTests/MultiHostTests.swift
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let helper = repository.appendingPathComponent("hostfiles/netns-hosts.sh")

    var deadline = Date()

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("network namespaces need root") }
        for tool in ["ip", "mpirun"] where Self.which(tool) == nil {
            throw XCTSkip("\(tool) is not on PATH")
        }
        // Whatever happens in the test, leave no namespaces behind.
        addTeardownBlock { _ = try? Self.run(Self.helper, ["down"], until: Date().addingTimeInterval(10)) }
    }

    func testTwoHostsWriteTheSingleProcessCheckpoint() throws {
        deadline = Date().addingTimeInterval(Self.trainingBudget)
        let binary = try Self.clifBinary()
        let work = FileManager.default.temporaryDirectory
            .appendingPathComponent("clif-multihost-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        // The checkpoint embeds the arguments, so both runs use the same -out_dir string.
        let outDir = work.appendingPathComponent("out")
        let train = ["train", "-dataset", "digits", "-model", "spiking_cnn_small", "-neuron", "CLIF",
                     "-b", "64", "-epochs", "1", "-T_max", "1", "--max-steps", "4", "-drop_rate", "0.2",
                     "-out_dir", outDir.path]

        let start = Date()
        let hosts = try Self.run(Self.helper, ["run", "2", "--", binary.path] + train, until: deadline)
        let hostsSeconds = Date().timeIntervalSince(start)
        try skipIfNamespacesAreForbidden(hosts.output)
        XCTAssertEqual(hosts.status, 0, "netns-hosts.sh run 2 failed:\n\(hosts.output)")
        XCTAssertTrue(hosts.output.contains("2 processes"), "the job did not run as 2 MPI ranks:\n\(hosts.output)")
        XCTAssertEqual(try Self.clifNamespaces(), [], "netns-hosts.sh left namespaces behind")
        let hostsOut = work.appendingPathComponent("out-2hosts")
        try FileManager.default.moveItem(at: outDir, to: hostsOut)

        let single = try Self.run(binary, train, until: deadline)
        XCTAssertEqual(single.status, 0, "single-process run failed:\n\(single.output)")
        XCTAssertTrue(single.output.contains("1 process"), single.output)

        let expected = try Data(contentsOf: Self.latestCheckpoint(in: outDir))
        let found = try Data(contentsOf: Self.latestCheckpoint(in: hostsOut))
        XCTAssertGreaterThan(expected.count, 0)
        if expected != found {
            let first = zip(expected, found).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            XCTFail("the 2-host checkpoint (\(found.count) bytes) differs from the single-process one (\(expected.count) bytes) from byte \(first ?? min(expected.count, found.count)) on")
        }
        print("MultiHostTests: 2 hosts took \(String(format: "%.1f", hostsSeconds)) s; checkpoints of \(expected.count) bytes identical: \(expected == found)")
    }

    /// Guards the claim of the test above: each rank really sits in its own namespace.
    func testEachRankRunsOnItsOwnHost() throws {
        deadline = Date().addingTimeInterval(Self.placementBudget)
        let script = #"echo "rank $OMPI_COMM_WORLD_RANK at $(ip -4 -o addr show dev clif0 | awk '{print $4}')""#
        let result = try Self.run(Self.helper, ["run", "2", "--", "sh", "-c", script], until: deadline)
        try skipIfNamespacesAreForbidden(result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("rank 0 at 10.77.0.1/24"), result.output)
        XCTAssertTrue(result.output.contains("rank 1 at 10.77.0.2/24"), result.output)
        XCTAssertEqual(try Self.clifNamespaces(), [], "netns-hosts.sh left namespaces behind")
    }

    // MARK: - Support

    /// Root in a container without CAP_NET_ADMIN / CAP_SYS_ADMIN cannot
    /// create bridges or namespaces; netns-hosts.sh says so in these words.
    func skipIfNamespacesAreForbidden(_ output: String) throws {
        if output.contains("netns-hosts: error: cannot create network") {
            throw XCTSkip("netns-hosts.sh cannot create network namespaces here:\n\(output)")
        }
    }

    static func which(_ tool: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").lazy
            .map { URL(fileURLWithPath: String($0)).appendingPathComponent(tool) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// The clif-mpi executable of this build: it sits next to the test bundle
    /// (`.build/<config>/`), a few folders up from the runner on macOS.
    static func clifBinary() throws -> URL {
        let starts = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                      Bundle.main.bundleURL]
        for start in starts {
            var folder = start.standardizedFileURL
            for _ in 0..<4 {
                let candidate = folder.appendingPathComponent("clif-mpi")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                folder = folder.deletingLastPathComponent()
            }
        }
        throw HarnessError(description: "no clif-mpi executable near \(starts.map(\.path)); build it first: swift build --build-tests")
    }

    static func latestCheckpoint(in outDir: URL) throws -> URL {
        let runs = try FileManager.default.contentsOfDirectory(at: outDir, includingPropertiesForKeys: nil)
        XCTAssertEqual(runs.count, 1, "expected one run folder in \(outDir.path), found \(runs.map(\.lastPathComponent))")
        return try XCTUnwrap(runs.first).appendingPathComponent("checkpoint_latest.safetensors")
    }

    static func clifNamespaces() throws -> [String] {
        let list = try run(URL(fileURLWithPath: "/bin/sh"), ["-c", "ip netns list"], until: Date().addingTimeInterval(10))
        return list.output.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
            .filter { $0.hasPrefix("clifhost") || $0 == "clifhead" }
    }

    struct HarnessError: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a program to its end, with stdout and stderr together, in
    /// `environment` (nil: this process's). Past `deadline` it is sent SIGTERM
    /// (netns-hosts.sh then stops mpirun and removes its hosts), SIGKILL 5 s
    /// later, and `HarnessError` is thrown.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                    until deadline: Date) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("clif-multihost-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw HarnessError(description: "cannot create \(log.path)")
        }
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { process.waitUntilExit(); finished.signal() }
        let timedOut = finished.wait(timeout: .now() + max(deadline.timeIntervalSinceNow, 0)) == .timedOut
        if timedOut {
            process.terminate()
            if finished.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                finished.wait()
            }
        }
        try handle.close()
        let output = String(decoding: try Data(contentsOf: log), as: UTF8.self)
        if timedOut {
            throw HarnessError(description: "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) ran past the test's time budget and was stopped. Output:\n\(output)")
        }
        return (process.terminationStatus, output)
    }
}
