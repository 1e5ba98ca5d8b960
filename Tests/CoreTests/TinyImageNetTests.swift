import Foundation
import XCTest
@testable import Core

/// Tiny-ImageNet's folder layout and JPEG decoding (fixtures of tools/make_image_fixtures.py).
final class TinyImageNetTests: XCTestCase {
    static let jpegFolder = Fixture.root.appendingPathComponent("images/jpeg")
    static let stems = ["rgb420", "rgb444", "progressive", "gray", "odd422"]

    func jpegBytes(_ stem: String) throws -> Data {
        try Data(contentsOf: Self.jpegFolder.appendingPathComponent("\(stem).JPEG"))
    }

    /// Pillow's `convert('RGB')` decode, `[3, H, W]`.
    func pillow(_ stem: String) throws -> Tensor {
        try Fixture.load("images/jpeg_decoded").required(stem)
    }

    func testDecodingMatchesPillow() throws {
        for stem in Self.stems {
            let expected = try pillow(stem)
            let image = try JPEG.decodeRGB(try jpegBytes(stem), file: stem)
            XCTAssertEqual([3, image.height, image.width], expected.shape, stem)
            let largest = zip(image.planes, expected.data).map { abs(Float($0) - $1) }.max() ?? .infinity
            // Pillow bundles libjpeg-turbo 3; Debian's 2.1 decodes the same bits
            // with the accurate IDCT and smooth upsampling both use.
            XCTAssertLessThanOrEqual(largest, 1, "\(stem): decode differs from Pillow's by \(largest)")
            print("max-diff jpeg \(stem) \(largest)")
        }
        // Greyscale becomes three equal channels, as convert('RGB') does.
        let gray = try JPEG.decodeRGB(try jpegBytes("gray"), file: "gray")
        let plane = 64 * 64
        XCTAssertEqual(Array(gray.planes[0..<plane]), Array(gray.planes[plane..<(2 * plane)]))
        XCTAssertEqual(Array(gray.planes[0..<plane]), Array(gray.planes[(2 * plane)...]))
    }

    /// A folder in the real layout: wnids.txt out of order, a boxes file
    /// next to each images/ folder, validation labels from the annotations.
    func makeFolder(_ name: String) throws -> URL {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("clif-tiny-\(name)-\(getpid())/tiny-imagenet-200")
        try? FileManager.default.removeItem(at: root.deletingLastPathComponent())
        func put(_ stem: String, _ path: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try jpegBytes(stem).write(to: url)
        }
        func text(_ content: String, _ path: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
        try text("n09999999\nn01443537\n", "wnids.txt")
        try put("rgb444", "train/n09999999/images/n09999999_0.JPEG")
        try put("rgb420", "train/n01443537/images/n01443537_1.JPEG")
        try put("gray", "train/n01443537/images/n01443537_0.JPEG")
        try text("n01443537_0.JPEG\t0\t0\t63\t63\n", "train/n01443537/n01443537_boxes.txt")
        try put("progressive", "val/images/val_1.JPEG")
        try put("rgb420", "val/images/val_0.JPEG")
        try text("val_0.JPEG\tn09999999\t0\t0\t10\t10\nval_1.JPEG\tn01443537\t1\t2\t30\t40\n", "val/val_annotations.txt")
        return root
    }

    func testFolderLoadsInTheOriginalsOrder() throws {
        let root = try makeFolder("layout")
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        var reports: [(Int, Int)] = []
        // -data_dir may be the parent folder or the dataset folder itself.
        let train = try TinyImageNet.load(directory: root.deletingLastPathComponent(), split: .train) { reports.append(($0, $1)) }
        let test = try TinyImageNet.load(directory: root, split: .test)
        XCTAssertEqual(reports.last?.0, 3)
        XCTAssertEqual(train.classes, 2)
        XCTAssertEqual([train.channels, train.height, train.width], [3, 64, 64])
        // Classes sorted (n01443537 = 0); within a class, files by name.
        XCTAssertEqual(train.labels, [0, 0, 1])
        XCTAssertEqual(test.labels, [1, 0])
        for (set, index, stem) in [(train, 0, "gray"), (train, 1, "rgb420"), (train, 2, "rgb444"),
                                   (test, 0, "rgb420"), (test, 1, "progressive")] {
            let expected = try pillow(stem)
            let largest = zip(set.image(index), expected.data).map { abs(Float($0) - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(largest, 1, "image \(index) should be \(stem)")
        }
        let catalog = try DatasetCatalog.load("tiny_imagenet", dataDirectory: root)
        XCTAssertEqual(catalog.normalization, .tinyImageNet)
        XCTAssertEqual(catalog.augmentation, Augmentation(horizontalFlip: true))
        XCTAssertEqual(catalog.train as? ImageSet, train)
    }

    func assertFails(_ root: URL, _ split: TinyImageNet.Split = .train, mentions parts: [String],
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TinyImageNet.load(directory: root, split: split), file: file, line: line) { error in
            let message = String(describing: error)
            for part in parts { XCTAssertTrue(message.contains(part), "\"\(message)\" should mention \(part)", file: file, line: line) }
        }
    }

    func testDamagedFilesAndFoldersAreNamed() throws {
        let root = try makeFolder("damaged")
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        let victim = root.appendingPathComponent("train/n01443537/images/n01443537_1.JPEG")
        let good = try Data(contentsOf: victim)

        try good.prefix(good.count / 2).write(to: victim)                     // truncated
        assertFails(root, mentions: [victim.path, "damaged"])
        var corrupt = good
        for i in stride(from: 200, to: good.count - 2, by: 3) { corrupt[i] = 0xFF }  // scrambled entropy data
        try corrupt.write(to: victim)
        assertFails(root, mentions: [victim.path])
        try Data("not an image".utf8).write(to: victim)
        assertFails(root, mentions: [victim.path, "not a JPEG"])
        try jpegBytes("odd422").write(to: victim)
        assertFails(root, mentions: [victim.path, "37×23", "64×64"])
        try good.write(to: victim)
        XCTAssertNoThrow(try TinyImageNet.load(directory: root, split: .train))

        let annotations = root.appendingPathComponent("val/val_annotations.txt")
        try "val_0.JPEG\tn09999999\t0\t0\t10\t10\n".write(to: annotations, atomically: true, encoding: .utf8)
        assertFails(root, .test, mentions: ["val_1.JPEG", "val_annotations.txt"])
        try "val_0.JPEG\tn07777777\t0\t0\t10\t10\n".write(to: annotations, atomically: true, encoding: .utf8)
        assertFails(root, .test, mentions: ["n07777777", "line 1"])
        try "val_0.JPEG n09999999\n".write(to: annotations, atomically: true, encoding: .utf8)
        assertFails(root, .test, mentions: ["line 1", "expected"])
        try FileManager.default.removeItem(at: annotations)
        assertFails(root, .test, mentions: [annotations.path])

        try "n09999999\nn01443537\nn02000000\n".write(to: root.appendingPathComponent("wnids.txt"), atomically: true, encoding: .utf8)
        assertFails(root, mentions: ["no folder for n02000000"])
        try FileManager.default.removeItem(at: root.appendingPathComponent("train"))
        assertFails(root, mentions: [root.appendingPathComponent("train").path, "missing"])
        assertFails(root.appendingPathComponent("nowhere"), mentions: ["wnids.txt", "nowhere"])
    }

    /// wnids.txt and val_annotations.txt read from their bytes, with the line named on error.
    func testClassListAndAnnotationsFromBytes() throws {
        XCTAssertEqual(try TinyImageNet.wnids(Data("n2\r\n\n n1 \n".utf8), file: "w.txt"), ["n2", "n1"])
        assertDataError(["w.txt", "twice"]) { _ = try TinyImageNet.wnids(Data("n1\nn1\n".utf8), file: "w.txt") }
        assertDataError(["w.txt", "no class ids"]) { _ = try TinyImageNet.wnids(Data("\n \n".utf8), file: "w.txt") }
        assertDataError(["w.txt", "not UTF-8"]) { _ = try TinyImageNet.wnids(Data([0xc3]), file: "w.txt") }
        let index = ["n1": 0, "n2": 1]
        XCTAssertEqual(try TinyImageNet.validationLabels(Data("a.JPEG\tn2\t0\t0\t1\t1\nb.JPEG\tn1\n".utf8), file: "v.txt", index: index),
                       ["a.JPEG": 1, "b.JPEG": 0])
        assertDataError(["v.txt", "line 2", "class n3"]) {
            _ = try TinyImageNet.validationLabels(Data("a.JPEG\tn2\nb.JPEG\tn3\n".utf8), file: "v.txt", index: index)
        }
        assertDataError(["v.txt", "line 1", "expected"]) {
            _ = try TinyImageNet.validationLabels(Data("\tn2\n".utf8), file: "v.txt", index: index)
        }
    }
}
