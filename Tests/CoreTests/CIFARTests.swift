import Foundation
import XCTest
@testable import Core

final class CIFARTests: XCTestCase {
    let files = FileManager.default

    /// data_batch_1…5 hold 3, 2, 2, 2, 2 images with seeds 1…5; test_batch 3 with seed 0.
    static let trainBatches: [(seed: Int, count: Int)] = [(1, 3), (2, 2), (3, 2), (4, 2), (5, 2)]

    func expectedCIFAR10(_ split: CIFAR.Split) -> ImageSet {
        let batches = split == .train ? Self.trainBatches : [(0, 3)]
        return ImageSet(channels: 3, height: 32, width: 32,
                        pixels: batches.flatMap { DataFixtures.images(seed: $0.seed, count: $0.count) },
                        labels: batches.flatMap { DataFixtures.cifar10Labels(seed: $0.seed, count: $0.count) },
                        classes: 10, maxValue: 255)
    }

    func expectedCIFAR100(_ split: CIFAR.Split) -> ImageSet {
        let (seed, count) = split == .train ? (0, 4) : (1, 2)
        return ImageSet(channels: 3, height: 32, width: 32, pixels: DataFixtures.images(seed: seed, count: count),
                        labels: DataFixtures.cifar100Fine(seed: seed, count: count), classes: 100, maxValue: 255)
    }

    /// A copy of a fixture folder in a scratch directory, for tests that damage it.
    func copyOfFolder(_ name: String) throws -> (root: URL, folder: URL) {
        let root = try makeScratchDirectory(self)
        let folder = root.appendingPathComponent(name)
        try files.copyItem(at: DataFixtures.url(name), to: folder)
        return (root, folder)
    }

    /// Binary batches with the python fixtures' images and labels.
    func writeBinary(_ set: ImageSet, to url: URL, coarse: Bool = false) throws {
        var bytes: [UInt8] = []
        for i in 0..<set.count {
            if coarse { bytes.append(UInt8(set.labels[i] / 5)) }
            bytes.append(UInt8(set.labels[i]))
            bytes += set.image(i)
        }
        try files.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func writeBinaryCIFAR10(in root: URL) throws {
        let train = expectedCIFAR10(.train)
        var start = 0
        for (number, batch) in Self.trainBatches.enumerated() {
            try writeBinary(train.subset(Array(start..<(start + batch.count))),
                            to: root.appendingPathComponent("cifar-10-batches-bin/data_batch_\(number + 1).bin"))
            start += batch.count
        }
        try writeBinary(expectedCIFAR10(.test), to: root.appendingPathComponent("cifar-10-batches-bin/test_batch.bin"))
    }

    // MARK: - Round trips

    func testPythonBatchesRoundTrip() throws {
        for split in [CIFAR.Split.train, .test] {
            let set = try CIFAR.load(directory: DataFixtures.root, variant: .cifar10, split: split)
            XCTAssertEqual(set, expectedCIFAR10(split))
            XCTAssertEqual([set.channels, set.height, set.width, set.classes], [3, 32, 32, 10])
            XCTAssertEqual(set.maxValue, 255)
        }
        XCTAssertEqual(try CIFAR.load(directory: DataFixtures.root, variant: .cifar10, split: .train).count, 11)
        // -data_dir pointing at the folder itself.
        XCTAssertEqual(try CIFAR.load(directory: DataFixtures.url("cifar-10-batches-py"), variant: .cifar10, split: .test),
                       expectedCIFAR10(.test))
    }

    func testCIFAR100PythonRoundTrip() throws {
        for split in [CIFAR.Split.train, .test] {
            let set = try CIFAR.load(directory: DataFixtures.root, variant: .cifar100, split: split)
            XCTAssertEqual(set, expectedCIFAR100(split))
            XCTAssertEqual(set.classes, 100)
        }
        XCTAssertTrue(try CIFAR.load(directory: DataFixtures.root, variant: .cifar100, split: .train).labels.contains(99))
    }

    func testBinaryBatchesMatchPython() throws {
        let root = try makeScratchDirectory(self)
        try writeBinaryCIFAR10(in: root)
        try writeBinary(expectedCIFAR100(.train), to: root.appendingPathComponent("cifar-100-binary/train.bin"), coarse: true)
        try writeBinary(expectedCIFAR100(.test), to: root.appendingPathComponent("cifar-100-binary/test.bin"), coarse: true)
        for split in [CIFAR.Split.train, .test] {
            XCTAssertEqual(try CIFAR.load(directory: root, variant: .cifar10, split: split),
                           try CIFAR.load(directory: DataFixtures.root, variant: .cifar10, split: split))
            XCTAssertEqual(try CIFAR.load(directory: root, variant: .cifar100, split: split), expectedCIFAR100(split))
        }
        XCTAssertEqual(try CIFAR.load(directory: root.appendingPathComponent("cifar-10-batches-bin"), variant: .cifar10,
                                      split: .test), expectedCIFAR10(.test))
    }

    func testPythonFolderComesBeforeBinary() throws {
        let (root, _) = try copyOfFolder("cifar-10-batches-py")
        var other = expectedCIFAR10(.test)
        other.labels = other.labels.map { ($0 + 1) % 10 }
        try writeBinary(other, to: root.appendingPathComponent("cifar-10-batches-bin/test_batch.bin"))
        XCTAssertEqual(try CIFAR.load(directory: root, variant: .cifar10, split: .test), expectedCIFAR10(.test))
        try files.removeItem(at: root.appendingPathComponent("cifar-10-batches-py"))
        XCTAssertEqual(try CIFAR.load(directory: root, variant: .cifar10, split: .test), other)
    }

    /// Batches re-saved by Python 3 (protocols 2, 4, 5; int64 label arrays).
    func testPython3Pickles() throws {
        let root = try makeScratchDirectory(self)
        let folder = root.appendingPathComponent("cifar-10-batches-py")
        try files.createDirectory(at: folder, withIntermediateDirectories: true)
        let seed1 = ImageSet(channels: 3, height: 32, width: 32, pixels: DataFixtures.images(seed: 1, count: 3),
                             labels: [3, 0, 7], classes: 10)
        for name in ["cifar10_py3_protocol2.pkl", "cifar10_py3_protocol4.pkl", "cifar10_py3_protocol5.pkl"] {
            try? files.removeItem(at: folder.appendingPathComponent("test_batch"))
            try files.copyItem(at: DataFixtures.url("pickle/\(name)"), to: folder.appendingPathComponent("test_batch"))
            XCTAssertEqual(try CIFAR.load(directory: root, variant: .cifar10, split: .test), seed1, name)
        }
        try files.removeItem(at: folder.appendingPathComponent("test_batch"))
        try files.copyItem(at: DataFixtures.url("pickle/cifar10_int64_labels_protocol4.pkl"),
                           to: folder.appendingPathComponent("test_batch"))
        let set = try CIFAR.load(directory: root, variant: .cifar10, split: .test)
        XCTAssertEqual(set.labels, [3, 9])
        XCTAssertEqual(set.pixels, DataFixtures.images(seed: 2, count: 2))
    }

    // MARK: - Errors

    func testMissingFolders() throws {
        let root = try makeScratchDirectory(self)
        assertDataError(["CIFAR-10", root.path, "cifar-10-batches-py/", "cifar-10-batches-bin/", "torchvision",
                         "cifar-10-python.tar.gz"]) {
            _ = try CIFAR.load(directory: root, variant: .cifar10, split: .train)
        }
        assertDataError(["CIFAR-100", "cifar-100-python/", "cifar-100-binary/", "CIFAR100"]) {
            _ = try CIFAR.load(directory: root, variant: .cifar100, split: .test)
        }
        try Data().write(to: root.appendingPathComponent("cifar-10-python.tar.gz"))
        assertDataError(["tar xzf cifar-10-python.tar.gz"]) {
            _ = try CIFAR.load(directory: root, variant: .cifar10, split: .train)
        }
    }

    func testMissingBatchFile() throws {
        let (root, folder) = try copyOfFolder("cifar-10-batches-py")
        try files.removeItem(at: folder.appendingPathComponent("data_batch_3"))
        assertDataError([folder.appendingPathComponent("data_batch_3").path, "missing", "extract"]) {
            _ = try CIFAR.load(directory: root, variant: .cifar10, split: .train)
        }
        XCTAssertNoThrow(try CIFAR.load(directory: root, variant: .cifar10, split: .test))
    }

    func testTruncatedFiles() throws {
        let (root, folder) = try copyOfFolder("cifar-10-batches-py")
        let batch = folder.appendingPathComponent("data_batch_2")
        try Data(contentsOf: batch).prefix(3000).write(to: batch)
        assertDataError([batch.path, "truncated"]) { _ = try CIFAR.load(directory: root, variant: .cifar10, split: .train) }

        let binary = try makeScratchDirectory(self)
        try writeBinaryCIFAR10(in: binary)
        let test = binary.appendingPathComponent("cifar-10-batches-bin/test_batch.bin")
        try Data(contentsOf: test).dropLast(5).write(to: test)
        assertDataError([test.path, "9214 bytes", "3073-byte", "truncated"]) {
            _ = try CIFAR.load(directory: binary, variant: .cifar10, split: .test)
        }
        try Data().write(to: test)
        assertDataError([test.path, "holds 0 bytes"]) { _ = try CIFAR.load(directory: binary, variant: .cifar10, split: .test) }
        // CIFAR-10 records read as CIFAR-100 (3074-byte records) do not divide.
        let wrong = binary.appendingPathComponent("cifar-100-binary/test.bin")
        try writeBinary(expectedCIFAR10(.test), to: wrong)
        assertDataError([wrong.path, "3074-byte", "coarse byte, fine byte"]) {
            _ = try CIFAR.load(directory: binary, variant: .cifar100, split: .test)
        }
    }

    func testLabelsOutOfRange() throws {
        let root = try makeScratchDirectory(self)
        var set = expectedCIFAR10(.test)
        set.labels[1] = 10
        let url = root.appendingPathComponent("cifar-10-batches-bin/test_batch.bin")
        try writeBinary(set, to: url)
        assertDataError([url.path, "image 1 has the label 10", "0..<10"]) {
            _ = try CIFAR.load(directory: root, variant: .cifar10, split: .test)
        }
        var hundred = expectedCIFAR100(.test)
        hundred.labels[0] = 100
        let url100 = root.appendingPathComponent("cifar-100-binary/test.bin")
        try writeBinary(hundred, to: url100, coarse: true)
        assertDataError([url100.path, "label 100", "0..<100"]) {
            _ = try CIFAR.load(directory: root, variant: .cifar100, split: .test)
        }
    }

    /// Pickles that are valid but not CIFAR batches (tools/make_data_fixtures.py writes bad/).
    func testPicklesOfTheWrongShape() throws {
        let root = try makeScratchDirectory(self)
        let folder = root.appendingPathComponent("cifar-10-batches-py")
        try files.createDirectory(at: folder, withIntermediateDirectories: true)
        let test = folder.appendingPathComponent("test_batch")
        let cases: [(String, [String])] = [
            ("no_data_key", ["keys 'data' and 'labels'", "batch_label, labels"]),
            ("wrong_shape", ["shape [N, 3072]", "[2, 1024]"]),
            ("label_out_of_range", ["image 0 has the label 10"]),
        ]
        for (name, fragments) in cases {
            try? files.removeItem(at: test)
            try files.copyItem(at: DataFixtures.url("bad/\(name)"), to: test)
            assertDataError([test.path] + fragments) { _ = try CIFAR.load(directory: root, variant: .cifar10, split: .test) }
        }
        // A CIFAR-10 batch read as CIFAR-100 lacks fine_labels.
        let cifar100 = root.appendingPathComponent("cifar-100-python")
        try files.createDirectory(at: cifar100, withIntermediateDirectories: true)
        try files.copyItem(at: DataFixtures.url("cifar-10-batches-py/test_batch"), to: cifar100.appendingPathComponent("test"))
        assertDataError([cifar100.appendingPathComponent("test").path, "'fine_labels'", "-dataset"]) {
            _ = try CIFAR.load(directory: root, variant: .cifar100, split: .test)
        }
    }
}
