import Foundation
import XCTest
@testable import Core

final class IDXTests: XCTestCase {
    /// An IDX file: `00 00 type dims`, big-endian sizes, data.
    func idx(_ shape: [Int], type: UInt8 = 0x08, _ data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
        for size in shape { bytes += (0..<4).map { UInt8(truncatingIfNeeded: size >> (24 - 8 * $0)) } }
        return bytes + data
    }

    /// gzip with stored (uncompressed) deflate blocks: enough to exercise inflate and its CRC check.
    func gzip(_ data: [UInt8]) -> [UInt8] {
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            out += [offset + n == data.count ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return out + le32(~crc) + le32(UInt32(truncatingIfNeeded: data.count))
    }

    func images(_ count: Int) -> [UInt8] {
        (0..<(count * 784)).map { (i: Int) -> UInt8 in UInt8(truncatingIfNeeded: i * 13 + (i / 784) * 5) }
    }

    func write(_ bytes: [UInt8], _ name: String, in directory: URL) throws {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }

    /// Train files raw, test files gzipped (both forms occur in the wild).
    func writeSet(in directory: URL, trainLabels: [UInt8] = [0, 9, 4], testLabels: [UInt8] = [7, 1]) throws {
        try write(idx([trainLabels.count, 28, 28], images(trainLabels.count)), "train-images-idx3-ubyte", in: directory)
        try write(idx([trainLabels.count], trainLabels), "train-labels-idx1-ubyte", in: directory)
        try write(gzip(idx([testLabels.count, 28, 28], images(testLabels.count))), "t10k-images-idx3-ubyte.gz", in: directory)
        try write(gzip(idx([testLabels.count], testLabels)), "t10k-labels-idx1-ubyte.gz", in: directory)
    }

    func testRoundTripRawAndGzip() throws {
        let directory = try makeScratchDirectory(self)
        try writeSet(in: directory)
        let train = try MNISTFamily.load(directory: directory, split: .train)
        XCTAssertEqual(train, ImageSet(channels: 1, height: 28, width: 28, pixels: images(3), labels: [0, 9, 4],
                                       classes: 10, maxValue: 255))
        let test = try MNISTFamily.load(directory: directory, split: .test)
        XCTAssertEqual(test.pixels, images(2))
        XCTAssertEqual(test.labels, [7, 1])
        let read = try IDX.read(directory.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        XCTAssertEqual(read.shape, [2, 28, 28])
        // A raw file next to its .gz wins; a large multi-block gzip inflates exactly.
        let big = images(200)
        try write(gzip(idx([200, 28, 28], big)), "big.gz", in: directory)
        XCTAssertEqual(try IDX.read(directory.appendingPathComponent("big.gz")).bytes, big)
        try write(idx([2, 1, 2, 1], [5, 6, 7, 8]), "four-d", in: directory)
        XCTAssertEqual(try IDX.read(directory.appendingPathComponent("four-d")).shape, [2, 1, 2, 1])
    }

    func testHeaderErrors() throws {
        let directory = try makeScratchDirectory(self)
        let cases: [([UInt8], [String])] = [
            ([0x1F, 0x00, 0x08, 0x01, 0, 0, 0, 0], ["wrong magic", "1F 00 08 01"]),
            ([0, 0, 0x08], ["wrong magic", "00 00 08"]),
            ([0, 0, 0x08, 0x00], ["wrong magic"]),
            (idx([2], type: 0x0D, [0, 0, 0, 0, 0, 0, 0, 0]), ["0x0D (float32)", "only 0x08"]),
            ([0, 0, 0x08, 3, 0, 0, 0, 2], ["declares 3 sizes", "truncated"]),
            (idx([60000, 28, 28], images(1)), ["claims shape [60000, 28, 28]", "47040000 bytes", "only 784 follow"]),
            (idx([2, 28, 28], images(1)), ["truncated"]),
            (idx([1, 28, 28], images(2)), ["784 extra"]),
        ]
        for (number, (bytes, fragments)) in cases.enumerated() {
            let url = directory.appendingPathComponent("case\(number)")
            try Data(bytes).write(to: url)
            assertDataError([url.path] + fragments) { _ = try IDX.read(url) }
        }
    }

    func testGzipErrors() throws {
        let directory = try makeScratchDirectory(self)
        let good = gzip(idx([1, 28, 28], images(1)))
        var corrupt = good
        corrupt[30] ^= 0xFF  // a data byte: the CRC no longer matches
        var badMethod = good
        badMethod[2] = 7
        let cases: [([UInt8], String)] = [
            (corrupt, "corrupt gzip data"),
            (badMethod, "corrupt gzip data"),
            (Array(good.prefix(good.count / 2)), "ends early"),
        ]
        for (number, (bytes, fragment)) in cases.enumerated() {
            let url = directory.appendingPathComponent("case\(number).gz")
            try Data(bytes).write(to: url)
            assertDataError([url.path, fragment]) { _ = try IDX.read(url) }
        }
    }

    func testSetErrors() throws {
        let directory = try makeScratchDirectory(self)
        assertDataError([directory.path, "train-images-idx3-ubyte.gz", "dataset-fashion-mnist"]) {
            _ = try MNISTFamily.load(directory: directory, split: .train)
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("FashionMNIST/raw"),
                                                withIntermediateDirectories: true)
        assertDataError(["FashionMNIST/raw", "-data_dir"]) { _ = try MNISTFamily.load(directory: directory, split: .test) }

        try writeSet(in: directory)
        let images = directory.appendingPathComponent("train-images-idx3-ubyte")
        let labels = directory.appendingPathComponent("train-labels-idx1-ubyte")
        try write(idx([3], [0, 1, 2]), "train-labels-idx1-ubyte", in: directory)
        try write(idx([3, 28, 27], Array(self.images(3).prefix(3 * 28 * 27))), "train-images-idx3-ubyte", in: directory)
        assertDataError([images.path, "[N, 28, 28]", "[3, 28, 27]"]) { _ = try MNISTFamily.load(directory: directory, split: .train) }
        try write(idx([3, 784], self.images(3)), "train-images-idx3-ubyte", in: directory)
        assertDataError([images.path, "[N, 28, 28]", "[3, 784]"]) { _ = try MNISTFamily.load(directory: directory, split: .train) }
        try write(idx([3, 28, 28], self.images(3)), "train-images-idx3-ubyte", in: directory)
        try write(idx([3, 1], [0, 1, 2]), "train-labels-idx1-ubyte", in: directory)
        assertDataError([labels.path, "shape [N]"]) { _ = try MNISTFamily.load(directory: directory, split: .train) }
        try write(idx([2], [0, 1]), "train-labels-idx1-ubyte", in: directory)
        assertDataError([labels.path, "3 images", "2 labels"]) { _ = try MNISTFamily.load(directory: directory, split: .train) }
        try write(idx([3], [0, 10, 2]), "train-labels-idx1-ubyte", in: directory)
        assertDataError([labels.path, "label 1 is 10"]) { _ = try MNISTFamily.load(directory: directory, split: .train) }
        try write(idx([3], [0, 9, 2]), "train-labels-idx1-ubyte", in: directory)
        XCTAssertEqual(try MNISTFamily.load(directory: directory, split: .train).labels, [0, 9, 2])
    }

    /// Debian's dataset-fashion-mnist, when installed.
    func testRealFashionMNIST() throws {
        let directory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("train-images-idx3-ubyte.gz").path)
        else { throw XCTSkip("dataset-fashion-mnist is not installed") }
        for (split, count) in [(MNISTFamily.Split.train, 60000), (.test, 10000)] {
            let set = try MNISTFamily.load(directory: directory, split: split)
            var perClass = [Int](repeating: 0, count: 10)
            for label in set.labels { perClass[label] += 1 }
            print("Fashion-MNIST \(split): \(set.count) images of \(set.channels)×\(set.height)×\(set.width), "
                  + "per class \(perClass), mean pixel \(Double(set.pixels.reduce(0) { $0 + Int($1) }) / Double(set.pixels.count))")
            XCTAssertEqual(set.count, count)
            XCTAssertEqual(perClass, [Int](repeating: count / 10, count: 10))
            XCTAssertEqual([set.channels, set.height, set.width], [1, 28, 28])
        }
    }
}
