import Foundation
import XCTest

/// hostfiles/slurm-train.sbatch under a real Slurm: a one-node cluster of
/// Debian's slurmctld, slurmd and munged, started for each test with
/// everything in a temporary folder (tools/slurm-local.sh) and stopped after
/// it. The script, submitted with sbatch as a user would (2 tasks × 1 CPU,
/// the payload replaced through TRAIN_ARGS), must write the checkpoint bytes
/// of one plain process, launched by srun and by mpirun; it must survive the
/// signal Slurm sends before a time limit (checkpoint, requeue, -resume), and
/// a job cancelled with scancel must stay cancelled. Needs root, Slurm, MUNGE
/// and Open MPI (`make test` installs them); skipped otherwise, and the skip is named at the end of `make test`.
final class SlurmTests: XCTestCase {
    // Generous: other jobs may share the machine. Measured with a load of 3–8
    // on 2 cores: 11–14 s, 46–55 s and 14–16 s (71–85 s in all; much of the
    // second is the 10 s a requeued job waits, twice).
    static let submitBudget: TimeInterval = 120
    static let requeueBudget: TimeInterval = 240
    static let cancelBudget: TimeInterval = 90

    static let repository = URL(fileURLWithPath: #filePath)   // Tests/DistributedTests/SlurmTests.swift
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let cluster = repository.appendingPathComponent("tools/slurm-local.sh")
    static let script = repository.appendingPathComponent("hostfiles/slurm-train.sbatch")

    /// A short training that the script runs instead of its CIFAR-10 one.
    static let payload = ["-dataset", "digits", "-model", "spiking_cnn_small", "-neuron", "CLIF", "-T", "2", "-b", "64"]

    var work = URL(fileURLWithPath: "/")
    var clusterFolder: URL { work.appendingPathComponent("cluster") }
    /// The same -out_dir string for every run: the checkpoint records it.
    var outDir: URL { work.appendingPathComponent("out") }

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("the test's Slurm daemons run as root") }
        for tool in ["munged", "slurmctld", "slurmd", "sbatch", "scancel", "scontrol", "mpirun"] where MultiHostTests.which(tool) == nil {
            throw XCTSkip("\(tool) is not on PATH (apt-get install slurmctld slurmd slurm-client munge openmpi-bin; make test-deps does)")
        }
        work = FileManager.default.temporaryDirectory.appendingPathComponent("clif-slurm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        // Whatever happens in the test, stop the daemons and remove the folder.
        addTeardownBlock { [work, clusterFolder] in
            _ = try? Self.run(Self.cluster, ["down", clusterFolder.path], until: Date().addingTimeInterval(30))
            try? FileManager.default.removeItem(at: work)
        }
        let up = try Self.run(Self.cluster, ["up", clusterFolder.path], until: Date().addingTimeInterval(45))
        guard up.status == 0 else {
            throw MultiHostTests.HarnessError(description: "tools/slurm-local.sh up failed (status \(up.status)):\n\(up.output)")
        }
    }

    func testBatchScriptWritesTheSingleProcessCheckpoint() throws {
        let deadline = Date().addingTimeInterval(Self.submitBudget)
        let train = Self.payload + ["-epochs", "1", "-T_max", "1", "--max-steps", "2"]
        var folders: [String: URL] = [:]
        for launcher in ["srun", "mpirun"] {
            let start = Date()
            let job = try submitJob(launcher: launcher, train: train, until: deadline)
            let state = try waitForEnd(of: job, until: deadline)
            let log = try jobLogs()
            XCTAssertTrue(state.contains("JobState=COMPLETED ") && state.contains("ExitCode=0:0 "),
                          "the job with LAUNCHER=\(launcher) failed: \(state)\n\(log)")
            XCTAssertTrue(log.contains("1 node(s) × 2 rank(s) × 1 thread(s)"), log)
            XCTAssertTrue(log.contains("running: \(launcher) "), log)
            XCTAssertTrue(log.contains("2 processes"), "the job did not run as 2 MPI ranks:\n\(log)")
            XCTAssertTrue(log.contains("clif-mpi exited with status 0"), log)
            print("SlurmTests: LAUNCHER=\(launcher) took \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
            folders[launcher] = try keepOutput(of: launcher)
        }
        try assertSameAsOneProcess(train, folders, files: ["checkpoint_latest.safetensors"], "", until: deadline)
    }

    /// The signal Slurm sends at `--signal=B:USR1@120` (the script's own
    /// line) comes early, from `scancel --batch --signal=USR1`, the same
    /// request to the batch shell: the ranks must checkpoint and exit with 143,
    /// the script requeue the job, and the job's second run continue with
    /// -resume to the checkpoints of one uninterrupted process.
    func testTimeLimitSignalCheckpointsRequeuesAndResumes() throws {
        let deadline = Date().addingTimeInterval(Self.requeueBudget)
        let train = Self.payload + ["-epochs", "2", "-T_max", "2"]
        var folders: [String: URL] = [:]
        for launcher in ["srun", "mpirun"] {
            let start = Date()
            let job = try submitJob(launcher: launcher, train: train, until: deadline)

            // After epoch 0 (23 steps) it is in epoch 1: stop it there.
            try waitFor("job \(job) to finish epoch 0", until: deadline) { try self.jobLogs().contains("epoch=0,") }
            let signal = try Self.run(try Self.tool("scancel"), ["--batch", "--signal=USR1", job],
                                      environment: slurmEnvironment(), until: deadline)
            XCTAssertEqual(signal.status, 0, signal.output)
            let state = try waitForEnd(of: job, until: deadline)
            let log = try jobLogs()
            XCTAssertTrue(state.contains("JobState=COMPLETED "), "\(state)\n\(log)")
            XCTAssertTrue(state.contains("Restarts=1 "), "the job was not requeued once: \(state)\n\(log)")
            XCTAssertTrue(log.contains("time limit near"), log)
            XCTAssertTrue(log.contains("stopped by a stop signal after step"), log)
            XCTAssertTrue(log.contains("clif-mpi exited with status 143"), log)
            XCTAssertTrue(log.contains("requeued; the next run continues from checkpoint_latest"), log)
            XCTAssertTrue(log.contains("continuing from \(outDir.path)/"), log)
            XCTAssertTrue(log.contains("start epoch: 1 at batch"), log)
            XCTAssertTrue(log.contains("clif-mpi exited with status 0"), log)
            print("SlurmTests: LAUNCHER=\(launcher) stopped, requeued and finished in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
            folders[launcher] = try keepOutput(of: launcher)
        }
        try assertSameAsOneProcess(train, folders, files: ["checkpoint_latest.safetensors", "checkpoint_max.safetensors"],
                                   ", stopped and resumed", until: deadline)
    }

    /// Moves the finished job's out_dir aside as `out-<launcher>` and clears the job logs.
    func keepOutput(of launcher: String) throws -> URL {
        let folder = work.appendingPathComponent("out-\(launcher)")
        try FileManager.default.moveItem(at: outDir, to: folder)
        try clearJobLogs()
        return folder
    }

    /// Trains `train` as one plain process and holds every launcher's `files` to its bytes.
    func assertSameAsOneProcess(_ train: [String], _ folders: [String: URL], files: [String], _ what: String,
                                until deadline: Date) throws {
        let single = try Self.run(try MultiHostTests.clifBinary(), ["train"] + train + ["-out_dir", outDir.path],
                                  until: deadline)
        XCTAssertEqual(single.status, 0, "single-process run failed:\n\(single.output)")
        for (launcher, folder) in folders.sorted(by: { $0.key < $1.key }) {
            for file in files { try assertSameCheckpoint(file, folder, "LAUNCHER=\(launcher)" + what) }
        }
    }

    /// scancel sends SIGTERM as well, to the script and to srun's ranks: the
    /// ranks checkpoint, but the job must end cancelled, not requeue itself.
    func testCancelledJobStaysCancelled() throws {
        let deadline = Date().addingTimeInterval(Self.cancelBudget)
        let job = try submitJob(launcher: "srun", train: Self.payload + ["-epochs", "20", "-T_max", "20"],
                                until: deadline)
        try waitFor("job \(job) to finish epoch 0", until: deadline) { try self.jobLogs().contains("epoch=0,") }
        let cancel = try Self.run(try Self.tool("scancel"), [job], environment: slurmEnvironment(), until: deadline)
        XCTAssertEqual(cancel.status, 0, cancel.output)
        try waitFor("job \(job)'s ranks to stop", until: deadline) {
            try self.jobLogs().contains("stopped by a stop signal after step")
                && !(try self.jobState(job).contains("JobState=RUNNING "))
        }
        // The script would requeue at once after its ranks exit (measured: 1 s).
        Thread.sleep(forTimeInterval: 3)
        let state = try jobState(job)
        let log = try jobLogs()
        XCTAssertTrue(state.contains("JobState=CANCELLED "), "\(state)\n\(log)")
        XCTAssertTrue(state.contains("Restarts=0 "), "a cancelled job requeued itself: \(state)\n\(log)")
        XCTAssertFalse(log.contains("requeued;"), log)
        XCTAssertTrue(log.contains("stopped by a stop signal after step"), "the ranks did not checkpoint:\n\(log)")
    }

    // MARK: - Support

    /// Submits the example script as it is, with its #SBATCH lines overridden
    /// to fit a 2-CPU machine (1 node × 2 tasks × 1 CPU, 5 minutes): the job id.
    func submitJob(launcher: String, train: [String], until deadline: Date) throws -> String {
        var environment = slurmEnvironment()
        environment["CLIF_MPI"] = try MultiHostTests.clifBinary().path
        environment["OUT_DIR"] = outDir.path
        environment["LAUNCHER"] = launcher
        environment["TRAIN_ARGS"] = train.joined(separator: " ")
        let options = ["--parsable", "--nodes=1", "--ntasks-per-node=2", "--cpus-per-task=1", "--time=5",
                       "--output=\(work.path)/job-%j.out"]
        let submitted = try Self.run(try Self.tool("sbatch"), options + [Self.script.path],
                                     environment: environment, until: deadline)
        let job = submitted.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard submitted.status == 0, !job.isEmpty, job.allSatisfy(\.isNumber) else {
            throw MultiHostTests.HarnessError(description: "sbatch failed (status \(submitted.status)):\n\(submitted.output)")
        }
        return job
    }

    /// Polls the job until it has ended (sbatch --wait polls every 10 s); its `scontrol` line.
    func waitForEnd(of job: String, until deadline: Date) throws -> String {
        var state = ""
        try waitFor("job \(job) to end", until: deadline) {
            state = try self.jobState(job)
            return ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"]
                .contains { state.contains("JobState=\($0) ") }
        }
        return state
    }

    static func tool(_ name: String) throws -> URL {
        guard let url = MultiHostTests.which(name) else { throw XCTSkip("\(name) is not on PATH") }
        return url
    }

    /// The test's cluster, and nothing of a Slurm job the tests may run in.
    func slurmEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLURM_") }
        environment["SLURM_CONF"] = clusterFolder.appendingPathComponent("slurm.conf").path
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OMPI_MCA_pml"] = "ob1"
        return environment
    }

    /// `scontrol show job -o ID`: one line of `Key=Value` pairs.
    func jobState(_ job: String) throws -> String {
        let show = try Self.run(try Self.tool("scontrol"), ["show", "job", "-o", job],
                                environment: slurmEnvironment(), until: Date().addingTimeInterval(20))
        return show.output + " "
    }

    /// The jobs' output files (`job-<id>.out`) so far, one after the other.
    func jobLogs() throws -> String {
        try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.hasPrefix("job-") }.sorted()
            .map { String(decoding: try Data(contentsOf: work.appendingPathComponent($0)), as: UTF8.self) }
            .joined(separator: "\n")
    }

    func clearJobLogs() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: work.path) where name.hasPrefix("job-") {
            try FileManager.default.removeItem(at: work.appendingPathComponent(name))
        }
    }

    func waitFor(_ what: String, until deadline: Date, _ condition: () throws -> Bool) throws {
        while !(try condition()) {
            guard Date() < deadline else {
                let log = (try? jobLogs()) ?? ""
                throw MultiHostTests.HarnessError(description: "timed out waiting for \(what); job output:\n\(log)")
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
    }

    /// `file` of the run under `folder` has the bytes of the single-process run's under `outDir`.
    func assertSameCheckpoint(_ file: String, _ folder: URL, _ what: String) throws {
        let expected = try Data(contentsOf: try MultiHostTests.latestCheckpoint(in: outDir)
            .deletingLastPathComponent().appendingPathComponent(file))
        let found = try Data(contentsOf: try MultiHostTests.latestCheckpoint(in: folder)
            .deletingLastPathComponent().appendingPathComponent(file))
        XCTAssertGreaterThan(expected.count, 0)
        if expected != found {
            let first = zip(expected, found).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            XCTFail("\(what): \(file) (\(found.count) bytes) differs from the single-process one (\(expected.count) bytes) from byte \(first ?? min(expected.count, found.count)) on")
        }
    }

    /// Runs a program to its end with stdout and stderr together, stopping it
    /// (SIGTERM, SIGKILL 5 s later) past `deadline` with `HarnessError`.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                    until deadline: Date) throws -> (status: Int32, output: String) {
        try MultiHostTests.run(executable, arguments, environment: environment, until: deadline)
    }
}
