import Foundation
import XCTest

/// `-out_dir` problems: a folder that cannot be created or written, or a disk
/// too small, is refused before any data is loaded or step computed; a disk
/// that fills during the run ends it with a clear message and the previous
/// checkpoint intact.
final class OutputFolderTests: XCTestCase {
    let arguments = ["train", "-dataset", "digits", "-model", "spiking_cnn_small", "-neuron", "CLIF",
                     "-b", "64", "-T", "2", "-epochs", "2", "-T_max", "2"]

    func train(_ outDir: String) throws -> Tool.Result {
        try Tool.run(try Tool.binary.path, arguments + ["-out_dir", outDir], timeout: 120)
    }

    /// Nothing trained: the model summary line comes after the checks.
    func assertRefusedBeforeTraining(_ r: Tool.Result, _ fragments: [String], file: StaticString = #filePath,
                                     line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, r.output, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(r.output.contains(fragment), "lacks '\(fragment)': \(r.output)", file: file, line: line)
        }
        XCTAssertFalse(r.output.contains("epoch="), "trained before failing: \(r.output)", file: file, line: line)
        XCTAssertFalse(r.output.contains("parameters),"), "built the run before failing: \(r.output)", file: file, line: line)
    }

    func testOutDirThatCannotBeCreatedIsRefused() throws {
        let scratch = try Tool.temporaryFolder("outdir-file")
        let file = scratch.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let r = try train(file.appendingPathComponent("runs").path)
        assertRefusedBeforeTraining(r, ["-out_dir \(file.path)/runs: cannot create the run folder", "\(file.path): it exists and is not a folder"])
        print("unwritable out_dir: \(r.output.split(separator: "\n").first ?? "")")
    }

    func testReadOnlyOutDirIsRefused() throws {
        let disk = try mountTemporaryFileSystem(self, options: "ro,size=1m")
        let r = try train(disk.path)
        assertRefusedBeforeTraining(r, ["-out_dir \(disk.path): cannot", "Read-only file system"])
    }

    func testDiskTooSmallForTheCheckpointsIsRefused() throws {
        // spiking_cnn_small's checkpoint is 176 kB; three need more than 256 kB.
        let disk = try mountTemporaryFileSystem(self, options: "size=256k")
        let r = try train(disk.path)
        assertRefusedBeforeTraining(r, ["-out_dir \(disk.path):", "free, but the checkpoints of this model need"])
        print("small disk: \(r.output.split(separator: "\n").first ?? "")")
    }

    /// The disk fills during the run: here its inodes run out (a tmpfs of 7
    /// inodes holds its root, the run folder, args.txt, metrics.jsonl, the
    /// TensorBoard file and the two checkpoints of epoch 0), so epoch 1's
    /// checkpoint cannot be created — ENOSPC, as on a full disk.
    func testDiskFillingDuringTheRunEndsItAndKeepsTheCheckpoint() throws {
        let disk = try mountTemporaryFileSystem(self, options: "size=4m,nr_inodes=7")
        let r = try train(disk.path)
        XCTAssertNotEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("epoch=0,"), r.output)
        XCTAssertTrue(r.output.contains("cannot write checkpoint"), r.output)
        XCTAssertTrue(r.output.contains("No space left on device"), r.output)
        XCTAssertTrue(r.output.contains("the previous checkpoint there is kept"), r.output)
        let folder = try Tool.runFolder(disk)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(names.filter { $0.contains(".tmp") }, [], "a temporary checkpoint was left behind")
        // checkpoint_latest is epoch 0's, whole: its header parses and says one epoch done.
        let data = try Data(contentsOf: folder.appendingPathComponent("checkpoint_latest.safetensors"))
        let headerLength = data.prefix(8).withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self)) }
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: data[8..<(8 + headerLength)]) as? [String: Any])
        let end = header.values.compactMap { ($0 as? [String: Any])?["data_offsets"] as? [Int] }.map { $0[1] }.max()
        XCTAssertEqual(8 + headerLength + (end ?? -1), data.count, "checkpoint_latest is not whole")
        let metadata = try XCTUnwrap(header["__metadata__"] as? [String: String])
        XCTAssertEqual(metadata["epoch"], "1")
        print("disk full during the run: \(r.output.split(separator: "\n").first { $0.contains("cannot write") } ?? "")")
    }
}
