import Foundation
import XCTest
@testable import Core

final class DataTests: XCTestCase {
    func testDigitsSplitIsStratifiedAndFixed() throws {
        let (train, test) = try Digits.load()
        XCTAssertEqual(train.count + test.count, 1797)
        XCTAssertEqual(train.channels * train.height * train.width, 64)
        for label in 0..<10 {
            let n = train.labels.filter { $0 == label }.count, m = test.labels.filter { $0 == label }.count
            XCTAssertEqual(n, (n + m) * 8 / 10, "class \(label)")
        }
        let again = try Digits.load()
        XCTAssertEqual(again.train, train)
        XCTAssertEqual(again.test, test)
    }

    /// Shuffling and augmentation depend only on (seed, epoch, sample).
    func testBatchesArePureFunctionsOfSeedEpochAndSample() throws {
        let (train, _) = try Digits.load()
        let source = BatchSource(set: train, batchSize: 64, normalization: .digits, augmentation: Augmentation(cropPadding: 1),
                                 shuffle: true, seed: 5)
        let order = source.order(epoch: 3)
        XCTAssertEqual(order, source.order(epoch: 3))
        XCTAssertNotEqual(order, source.order(epoch: 4))
        XCTAssertEqual(order.sorted(), Array(0..<train.count))
        let whole = source.prepare(source.indices(of: 2, in: order), epoch: 3)
        let part = source.prepare(source.indices(of: 2, in: order).dropFirst(10).prefix(20), epoch: 3)
        XCTAssertEqual(Array(whole.images.data[(10 * 64)..<(30 * 64)]), part.images.data)
        XCTAssertEqual(Array(whole.labels[10..<30]), part.labels)
    }

    func testCIFARAugmentationKeepsShapeAndCutoutBounds() {
        let set = ImageSet(channels: 3, height: 32, width: 32, pixels: [UInt8](repeating: 200, count: 3072), labels: [1], classes: 10)
        var out = [Float](repeating: 0, count: 3072)
        var filledCount = 0
        for trial in 0..<200 {
            var stream = RandomStream(seed: 1, UInt64(trial))
            out.withUnsafeMutableBufferPointer {
                ImageTransform.prepare(set, index: 0, augmentation: .cifar, normalization: .identity(channels: 3),
                                       stream: &stream, into: $0.baseAddress!)
            }
            // Values are 200/255 (image), 0 (crop padding) or one cutout value shared by all channels.
            let values = Set(out)
            XCTAssertLessThanOrEqual(values.count, 3)
            if values.count == 3 { filledCount += 1 }
        }
        XCTAssertGreaterThan(filledCount, 30, "Cutout (p = 0.5) should show in a good share of 200 draws")
    }

    func testTensorBoardRecordsAreFramedWithCRC() throws {
        XCTAssertEqual(CRC32C.checksum(Data("123456789".utf8)), 0xE306_9283)  // the CRC-32C check value
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clif-tb-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let writer = try TensorBoardWriter(directory: dir)
        try writer.add(scalar: "test_acc", 0.5, step: 3)
        let data = try Data(contentsOf: writer.url)
        var offset = 0, records = 0
        while offset < data.count {
            let length = Int(data[offset..<(offset + 8)].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            let lengthCRC = data[(offset + 8)..<(offset + 12)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            XCTAssertEqual(lengthCRC, CRC32C.masked(data[offset..<(offset + 8)]))
            let payload = data[(offset + 12)..<(offset + 12 + length)]
            let payloadCRC = data[(offset + 12 + length)..<(offset + 16 + length)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            XCTAssertEqual(payloadCRC, CRC32C.masked(Data(payload)))
            offset += 16 + length
            records += 1
        }
        XCTAssertEqual(records, 2)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("test_acc"))
    }

    func testTensorBoardWriterNamesTheFileItCannotCreate() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clif-tb-missing-\(getpid())/inner")
        try? FileManager.default.removeItem(at: dir)
        XCTAssertThrowsError(try TensorBoardWriter(directory: dir)) { error in
            guard let error = error as? LoggingError else { return XCTFail("expected a LoggingError, got \(error)") }
            XCTAssertTrue(error.description.hasPrefix("cannot create the TensorBoard event file \(dir.path)/events.out.tfevents."),
                          error.description)
        }
    }
}
