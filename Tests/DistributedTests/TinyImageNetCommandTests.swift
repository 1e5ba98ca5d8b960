import Foundation
import XCTest

/// The original's Tiny-ImageNet command (docs/training.md, the paper's runs: spiking_vgg13_bn, -b 256,
/// -weight_decay 1e-4), shrunk to a few steps on a folder of real JPEG files.
final class TinyImageNetCommandTests: XCTestCase {
    /// The committed JPEG fixtures (tools/make_image_fixtures.py).
    static let jpegs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/images/jpeg")

    /// `tiny-imagenet-200/` with 3 classes, 6 training and 3 validation images.
    static func makeDataset(in folder: URL) throws -> URL {
        let root = folder.appendingPathComponent("tiny-imagenet-200")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let wnids = ["n01443537", "n01629819", "n01641577"]
        let stems = ["rgb420", "rgb444", "progressive", "gray"]
        func put(_ stem: String, _ path: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: jpegs.appendingPathComponent("\(stem).JPEG"), to: url)
        }
        try (wnids.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("wnids.txt", isDirectory: false),
                                                          atomically: true, encoding: .utf8)
        var annotations = ""
        for (c, wnid) in wnids.enumerated() {
            for k in 0..<2 { try put(stems[(c + k) % stems.count], "train/\(wnid)/images/\(wnid)_\(k).JPEG") }
            try put(stems[(c + 3) % stems.count], "val/images/val_\(c).JPEG")
            annotations += "val_\(c).JPEG\t\(wnid)\t0\t0\t63\t63\n"
        }
        try annotations.write(to: root.appendingPathComponent("val/val_annotations.txt"), atomically: true, encoding: .utf8)
        return root
    }

    func testOriginalCommandTrainsOnOneProcessAndUnderMPI() throws {
        let folder = try Tool.temporaryFolder("tiny-imagenet")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try Self.makeDataset(in: folder)
        let outDir = folder.appendingPathComponent("out")
        let args = ["train", "-dataset", "tiny_imagenet", "-data_dir", root.path, "-model", "spiking_vgg13_bn",
                    "-b", "4", "-weight_decay", "1e-4", "-T", "1", "-epochs", "1", "-T_max", "1", "--max-steps", "1",
                    "-out_dir", outDir.path]
        func checkpoint(_ result: Tool.Result) throws -> Data {
            XCTAssertEqual(result.status, 0, result.output)
            XCTAssertTrue(result.output.contains("6 train / 3 test images of 3×64×64"), result.output)
            XCTAssertTrue(result.output.contains("decoding Tiny-ImageNet train: 6/6 images"), result.output)
            let data = try Data(contentsOf: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors"))
            try FileManager.default.removeItem(at: outDir)
            return data
        }
        let plain = try checkpoint(try Tool.run(try Tool.binary.path, args))
        XCTAssertEqual(try checkpoint(try Tool.mpi(2, args)), plain, "2 ranks differ from one process")
    }

    func testDamagedJPEGStopsTheRunNamingTheFile() throws {
        let folder = try Tool.temporaryFolder("tiny-imagenet-damaged")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try Self.makeDataset(in: folder)
        let victim = root.appendingPathComponent("val/images/val_1.JPEG")
        let bytes = try Data(contentsOf: victim)
        try bytes.prefix(bytes.count / 3).write(to: victim)
        let r = try Tool.run(try Tool.binary.path, ["train", "-dataset", "tiny_imagenet", "-data_dir", root.path,
                                                    "-model", "spiking_vgg13_bn", "-b", "4", "--max-steps", "1",
                                                    "-out_dir", folder.appendingPathComponent("out").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains(victim.path), r.output)
    }
}
