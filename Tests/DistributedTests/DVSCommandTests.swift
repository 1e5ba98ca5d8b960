import Foundation
import XCTest

/// The original's DVS commands (docs/training.md, the paper's runs; formats in
/// docs/data.md) on tiny event folders in the real file formats, as one process
/// and under mpirun, with the same bits.
final class DVSCommandTests: XCTestCase {
    /// Events clustered in a 24×24 patch, sorted by time, from a fixed LCG.
    static func events(_ count: Int, seed: UInt64, until end: UInt32) -> [(t: UInt32, x: UInt32, y: UInt32, p: UInt32)] {
        var state = seed
        func next(_ bound: UInt32) -> UInt32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt32(truncatingIfNeeded: state >> 33) % bound
        }
        let cx = 20 + next(80), cy = 20 + next(80)
        return (0..<count).map { _ in (next(end), cx + next(24), cy + next(24), next(2)) }.sorted { $0.t < $1.t }
    }

    static func littleEndian(_ values: [UInt32]) -> Data {
        var data = Data()
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    /// A DVS128 Gesture folder: user01 (two gestures) trains, user02 (one) tests.
    static func writeGestureFolder(_ dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (index, name) in ["user01_fluorescent", "user02_led"].enumerated() {
            let list = events(300, seed: UInt64(index + 1), until: 100_000)
            var file = Data("#!AER-DAT3.1\r\n#Format: RAW\r\n#!END-HEADER\r\n".utf8)
            file.append(Data([1, 0, 1, 0]))  // eventType 1 (polarity), eventSource 1
            file.append(littleEndian([8, 4, 0, UInt32(list.count), UInt32(list.count), UInt32(list.count)]))
            file.append(littleEndian(list.flatMap { [$0.x << 17 | $0.y << 2 | $0.p << 1 | 1, $0.t] }))
            try file.write(to: dir.appendingPathComponent(name + ".aedat"))
            let rows = index == 0 ? "4,0,50000\n9,50000,100000\n" : "2,10000,90000\n"
            try ("class,startTime_usec,endTime_usec\n" + rows).write(to: dir.appendingPathComponent(name + "_labels.csv"),
                                                                      atomically: true, encoding: .utf8)
        }
        try "user01_fluorescent.aedat\n".write(to: dir.appendingPathComponent("trials_to_train.txt"), atomically: true, encoding: .utf8)
        try "user02_led.aedat\n".write(to: dir.appendingPathComponent("trials_to_test.txt"), atomically: true, encoding: .utf8)
    }

    /// A CIFAR10-DVS folder: two recordings per class (one trains, one tests).
    static func writeCIFAR10DVSFolder(_ dir: URL) throws {
        let classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        for (c, name) in classes.enumerated() {
            let folder = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<2 {
                var file = Data("#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n".utf8)
                for e in events(200, seed: UInt64(100 + 2 * c + i), until: 1_000_000) {
                    for word in [e.y << 8 | e.x << 1 | e.p, e.t] { withUnsafeBytes(of: word.bigEndian) { file.append(contentsOf: $0) } }
                }
                try file.write(to: folder.appendingPathComponent("cifar10_\(name)_\(i).aedat"))
            }
        }
    }

    /// Checkpoint bytes of one run (same `-out_dir` string each time: the checkpoint records it).
    func checkpoint(_ arguments: [String], ranks: Int?, outDir: URL) throws -> Data {
        try? FileManager.default.removeItem(at: outDir)
        let args = ["train"] + arguments + ["-out_dir", outDir.path]
        let r = try ranks.map { try Tool.mpi($0, args) } ?? Tool.run(try Tool.binary.path, args)
        XCTAssertEqual(r.status, 0, "\(ranks.map { "\($0) ranks" } ?? "one process"): \(r.output)")
        print("dvs: \(arguments.joined(separator: " ")) on \(ranks ?? 1) process(es): \(String(format: "%.1f", r.seconds)) s")
        return try Data(contentsOf: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors"))
    }

    func testDVSGestureCommandTrainsAloneAndUnderMPI() throws {
        let root = try Tool.temporaryFolder("dvsgesture")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try Self.writeGestureFolder(data.appendingPathComponent("DvsGesture"))
        // The published command; -T 20 → 2 keeps the 128×128 VGG-11 test to seconds.
        let command = ["-dataset", "dvsgesture", "-data_dir", data.path, "-model", "spiking_vgg11_bn", "-T", "2", "-b", "16",
                       "-drop_rate", "0.4", "-epochs", "1", "-T_max", "1", "--max-steps", "1"]
        let out = root.appendingPathComponent("out")
        let plain = try checkpoint(command, ranks: nil, outDir: out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: data.appendingPathComponent("clif_mpi_frames_number_2_split_by_number/dvsgesture_train.frames").path))
        let metrics = try String(contentsOf: Tool.runFolder(out).appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(metrics.contains("\"test_acc\""), metrics)
        XCTAssertEqual(try checkpoint(command, ranks: 2, outDir: out), plain, "2 ranks differ from one process")
    }

    func testDVSCIFAR10CommandTrainsAloneAndUnderMPI() throws {
        let root = try Tool.temporaryFolder("dvscifar10")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try Self.writeCIFAR10DVSFolder(data)
        // The published command, with a batch of 2 and one step.
        let command = ["-dataset", "DVSCIFAR10", "-data_dir", data.path, "-model", "spiking_vgg11_bn", "-T", "10",
                       "-drop_rate", "0.3", "-lr", "0.05", "-mse_n_reg", "-b", "2", "--max-steps", "1"]
        let out = root.appendingPathComponent("out")
        // The MPI job runs first: its rank 0 builds the frame cache, rank 1 reads it.
        let distributed = try checkpoint(command, ranks: 2, outDir: out)
        XCTAssertEqual(try checkpoint(command, ranks: nil, outDir: out), distributed, "2 ranks differ from one process")
        // vggsnn takes the 2×48×48 frames too, here cut by time.
        let v = try Tool.run(try Tool.binary.path, ["train", "-dataset", "DVSCIFAR10", "-data_dir", data.path, "-model", "vggsnn",
                                                     "-T", "2", "-b", "2", "--max-steps", "1", "-split_by", "time",
                                                     "-out_dir", root.appendingPathComponent("vgg").path])
        XCTAssertEqual(v.status, 0, v.output)
        XCTAssertTrue(v.output.contains("2×48×48"), v.output)
        let args = try String(contentsOf: Tool.runFolder(root.appendingPathComponent("vgg")).appendingPathComponent("args.txt"), encoding: .utf8)
        XCTAssertTrue(args.contains("split_by='time'"), args)
        // infer takes the dataset, -T and the time split from the checkpoint.
        let checkpoint = try Tool.runFolder(root.appendingPathComponent("vgg")).appendingPathComponent("checkpoint_latest.safetensors")
        let i = try Tool.run(try Tool.binary.path, ["infer", "--checkpoint", checkpoint.path, "-b", "10"])
        XCTAssertEqual(i.status, 0, i.output)
        XCTAssertTrue(i.output.contains("T=2") && i.output.contains("10 images"), i.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: data.appendingPathComponent("clif_mpi_frames_number_2_split_by_time_48x48/dvscifar10_test.frames").path))
    }

    func testBrokenEventFilesAreNamed() throws {
        let root = try Tool.temporaryFolder("dvsbroken")
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.writeCIFAR10DVSFolder(root)
        let broken = root.appendingPathComponent("dog/cifar10_dog_1.aedat")
        let bytes = try Data(contentsOf: broken)
        try bytes.prefix(bytes.count - 3).write(to: broken)
        let r = try Tool.run(try Tool.binary.path, ["train", "-dataset", "DVSCIFAR10", "-data_dir", root.path, "-T", "2",
                                                     "--max-steps", "1", "-out_dir", root.appendingPathComponent("out").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains(broken.path) && r.output.contains("truncated"), r.output)
    }
}
