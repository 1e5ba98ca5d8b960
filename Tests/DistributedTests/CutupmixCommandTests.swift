import Foundation
import XCTest

/// `-cutupmix_auto` as the original's CIFAR and Tiny-ImageNet runs use it:
/// the same bits on one process and under mpirun.
final class CutupmixCommandTests: XCTestCase {
    /// `cifar-10-batches-bin/` with 40 training and 8 test images of smooth random colours.
    static func makeCIFAR(in folder: URL) throws {
        let root = folder.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var state: UInt64 = 0x9E3779B97F4A7C15
        func byte() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        func records(_ count: Int) -> Data {
            var data = Data()
            for i in 0..<count {
                data.append(UInt8(i % 10))
                let base = (0..<3).map { _ in Int(byte()) }
                for ch in 0..<3 {
                    for y in 0..<32 {
                        for x in 0..<32 { data.append(UInt8((base[ch] + 4 * x + 2 * y + Int(byte() % 16)) % 256)) }
                    }
                }
            }
            return data
        }
        for k in 1...5 { try records(8).write(to: root.appendingPathComponent("data_batch_\(k).bin")) }
        try records(8).write(to: root.appendingPathComponent("test_batch.bin"))
    }

    func checkpoint(_ ranks: Int?, _ args: [String], outDir: URL) throws -> Data {
        try? FileManager.default.removeItem(at: outDir)
        let r = try ranks.map { try Tool.mpi($0, args) } ?? Tool.run(try Tool.binary.path, args)
        XCTAssertEqual(r.status, 0, r.output)
        return try Data(contentsOf: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors"))
    }

    /// 40 images, -b 12: three full batches a epoch (the fourth, 4 images, is
    /// dropped), so --max-steps 5 crosses an epoch boundary.
    func testCIFARRecipeIsIdenticalOnAnyRankCount() throws {
        let folder = try Tool.temporaryFolder("cutupmix-cifar")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.makeCIFAR(in: folder)
        let outDir = folder.appendingPathComponent("out")
        let args = ["train", "-dataset", "cifar10", "-data_dir", folder.path, "-model", "spiking_cnn_small", "-T", "2",
                    "-b", "12", "-epochs", "2", "-T_max", "2", "--max-steps", "5", "-cutupmix_auto", "-out_dir", outDir.path]
        let plain = try checkpoint(nil, args, outDir: outDir)
        let log = try String(contentsOf: Tool.runFolder(outDir).appendingPathComponent("args.txt"), encoding: .utf8)
        XCTAssertTrue(log.contains("cutupmix_auto=True"), log)
        for ranks in [2, 3, 4] {
            XCTAssertEqual(try checkpoint(ranks, args, outDir: outDir), plain, "\(ranks) ranks differ from one process")
        }
        // Stopped mid-epoch under 2 ranks, resumed under 3: the same bytes.
        _ = try checkpoint(2, args.map { $0 == "5" ? "2" : $0 }, outDir: outDir)
        let saved = folder.appendingPathComponent("interrupted.safetensors")
        try FileManager.default.copyItem(at: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors"), to: saved)
        let resumed = try Tool.mpi(3, args + ["-resume", saved.path])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertEqual(try Data(contentsOf: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors")), plain,
                       "stopped after step 2 with 2 ranks, resumed with 3: differs from the plain run")
        // The recipe changes training: without it the run ends elsewhere.
        XCTAssertNotEqual(try checkpoint(nil, args.filter { $0 != "-cutupmix_auto" }, outDir: outDir), plain)
    }

    func testTinyImageNetRecipeIsIdenticalUnderMPI() throws {
        let folder = try Tool.temporaryFolder("cutupmix-tiny")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try TinyImageNetCommandTests.makeDataset(in: folder)
        let outDir = folder.appendingPathComponent("out")
        let args = ["train", "-dataset", "tiny_imagenet", "-data_dir", root.path, "-model", "spiking_vgg11_bn", "-T", "1",
                    "-b", "4", "-epochs", "1", "-T_max", "1", "--max-steps", "2", "-cutupmix_auto", "-out_dir", outDir.path]
        let plain = try checkpoint(nil, args, outDir: outDir)
        XCTAssertEqual(try checkpoint(2, args, outDir: outDir), plain, "2 ranks differ from one process")
    }

    func testOtherDatasetsAreRefused() throws {
        let r = try Tool.run(try Tool.binary.path, ["train", "-dataset", "digits", "-cutupmix_auto"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("-cutupmix_auto applies to cifar10, cifar100, tiny_imagenet"), r.output)
    }
}
