import Foundation
import XCTest
@testable import Core

/// One test per defect the fuzz targets of fuzz/ found (fuzz/README.md):
/// each input, minimised by hand, must now give the reader's error, not a
/// trap, a hang or an unbounded allocation.
final class FuzzRegressionTests: XCTestCase {
    // MARK: - Pickle (fuzz target Pickle and CIFARPickle)

    /// DICT with an odd number of items after its MARK indexed past the end
    /// of the item list (a trap); SETITEMS already checked this.
    func testPickleDictWithOddItemCount() {
        // PROTO 2, MARK, BININT1 1, DICT, STOP
        assertDataError(["DICT with an odd number (1) of keys and values"]) {
            _ = try Pickle.parse([0x80, 0x02, 0x28, 0x4B, 0x01, 0x64, 0x2E], name: "odd.pkl", allowing: .plainData)
        }
    }

    /// A dict key made of a tuple holding one memoized tuple twice, nested 60
    /// deep, has 2^60 items: hashing it never ended. Its size is now capped.
    func testPickleSelfSharingTupleKeyIsRefusedQuickly() {
        var bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x4B, 0x00]  // PROTO 2, EMPTY_DICT, BININT1 0
        for level in 0..<60 {
            // BINPUT level, BINGET level, TUPLE2: (x, x)
            bytes += [0x71, UInt8(level), 0x68, UInt8(level), 0x86]
        }
        bytes += [0x4E, 0x73, 0x2E]  // NONE, SETITEM, STOP
        let start = Date()
        assertDataError(["a dict key of more than 10000 items"]) {
            _ = try Pickle.parse(bytes, name: "tuple-bomb.pkl", allowing: .plainData)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "refusing the key took too long")
    }

    // MARK: - .pth tensors (fuzz target TorchCheckpoint; found reviewing the reader for it)

    /// An empty tensor whose other dimensions are huge ([0, 2^40, 2^40]) made
    /// the row-major strides overflow (a trap). It now reads as the empty
    /// tensor it is, and survives the conversion to safetensors and back.
    func testEmptyTorchTensorWithHugeDimensions() throws {
        let archive = try ZipArchive(data: Data(contentsOf: Fixture.root.appendingPathComponent("pth/views.pth")),
                                     name: "views.pth")
        var reader = TensorReader(zip: archive, prefix: "views/", file: "views.pth")
        // views/data/0 holds 96 bytes: 24 float32.
        let storage = PickleValue.persistent(.tuple([.string("storage"), .global(PickleGlobal("torch", "FloatStorage")),
                                                     .string("0"), .string("cpu"), .int(24)]))
        let huge = 1 << 40
        let call = PickleCall(callee: PickleGlobal("torch._utils", "_rebuild_tensor_v2"),
                              arguments: [storage, .int(0), .tuple([.int(0), .int(huge), .int(huge)]),
                                          .tuple([.int(1), .int(1), .int(1)]), .bool(false), .none],
                              isNewObject: false, state: nil, listItems: [], dictItems: [])
        let tensor = try reader.tensor(.call(call), what: "empty")
        XCTAssertEqual(tensor.shape, [0, huge, huge])
        XCTAssertEqual(tensor.bytes.count, 0)
        let converted = TorchCheckpoint.safetensorsData(TorchCheckpointContents(tensors: [("empty", tensor)]))
        XCTAssertEqual(try SafeTensorsFile(data: converted).tensors["empty"]?.shape, [0, huge, huge])
        // A non-empty tensor with such sizes is still refused by the size check.
        var tooLarge = call
        tooLarge.arguments[2] = .tuple([.int(huge), .int(huge), .int(0)])
        XCTAssertThrowsError(try reader.tensor(.call(tooLarge), what: "huge")) { error in
            XCTAssertTrue("\(error)".contains("too large"), "\(error)")
        }
    }

    // MARK: - Hostile sizes: refused from the header, before anything is allocated

    func testHostileSizesAreRefusedBeforeAllocating() throws {
        // safetensors whose header claims 1 TB.
        var terabyte = Data()
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { terabyte.append(contentsOf: $0) }
        terabyte.append(Data("{}".utf8))
        XCTAssertThrowsError(try SafeTensorsFile(data: terabyte)) { error in
            XCTAssertTrue("\(error)".contains("claims 1099511627776 bytes, more than the limit"), "\(error)")
        }
        // A tensor whose data_offsets claim 1 TB of a 4-byte body.
        let header = #"{"w":{"dtype":"F32","shape":[262144,1048576],"data_offsets":[0,1099511627776]}}"#
        var tensor = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { tensor.append(contentsOf: $0) }
        tensor.append(Data(header.utf8) + Data(count: 4))
        XCTAssertThrowsError(try SafeTensorsFile(data: tensor)) { error in
            XCTAssertTrue("\(error)".contains("larger than the file"), "\(error)")
        }
        // A pickle whose BINBYTES8 claims 2^60 bytes.
        let bytes8: [UInt8] = [0x80, 0x04, 0x8E] + (0..<8).map { $0 == 7 ? 0x10 : 0 } + [0x2E]
        assertDataError(["BINBYTES8 claiming 1152921504606846976 bytes when only 1 remain"]) {
            _ = try Pickle.parse(bytes8, name: "huge.pkl", allowing: .plainData)
        }
        // An IDX file claiming 2^32 − 1 images of 28×28.
        assertDataError(["claims shape [4294967295, 28, 28]", "only 0 follow"]) {
            _ = try IDX.parse([0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 28, 0, 0, 0, 28], name: "huge-idx")
        }
        // A .pth whose central directory claims a 2 GB entry.
        var zip = try Data(contentsOf: Fixture.root.appendingPathComponent("pth/views.pth"))
        let signature = Data([0x50, 0x4B, 0x01, 0x02])
        let entry = try XCTUnwrap(zip.range(of: signature)?.lowerBound)
        zip.replaceSubrange((entry + 20)..<(entry + 28), with: [0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F])
        XCTAssertThrowsError(try TorchCheckpoint.read(zip, name: "huge.pth")) { error in
            XCTAssertTrue("\(error)".contains("(2147483647) exceeds the \(zip.count)-byte file"), "\(error)")
        }
    }

    /// A JPEG header claiming 65000×65000 (12 GB of RGB; libjpeg itself stops
    /// at 65500) is refused by the Tiny-ImageNet loader from the header; a
    /// size the decoder could handle (8000×8000) is refused there too, as not
    /// 64×64 — the message says it came from the header, before any pixel was
    /// decoded or allocated.
    func testJPEGHeaderSizesAreRefusedBeforeDecoding() throws {
        var jpeg = try Data(contentsOf: Fixture.root.appendingPathComponent("images/jpeg/gray.JPEG"))
        let frame = try XCTUnwrap(jpeg.range(of: Data([0xFF, 0xC0]))?.lowerBound)  // SOF0: length, precision, H, W
        func claim(width: UInt16, height: UInt16) {
            jpeg.replaceSubrange((frame + 5)..<(frame + 9),
                                 with: [UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF)])
        }
        claim(width: 65000, height: 65000)
        assertDataError(["huge.JPEG", "65000×65000", "not plausible"]) { _ = try JPEG.decodeRGB(jpeg, file: "huge.JPEG") }
        assertDataError(["huge.JPEG", "65000×65000"]) { _ = try TinyImageNet.decode(jpeg, file: "huge.JPEG") }
        claim(width: 8000, height: 8000)
        assertDataError(["big.JPEG is 8000×8000, expected 64×64 (read from its JPEG header)", "every Tiny-ImageNet image"]) {
            _ = try TinyImageNet.decode(jpeg, file: "big.JPEG")
        }
    }

    /// Event files and frame caches whose headers claim more than the file
    /// holds: refused from the header (AEDAT 3.1 packets of 2^32 − 1 events
    /// of 2^32 − 1 bytes, polarity events of 0 bytes; a cache of 2^32 − 1 samples).
    func testEventFileAndFrameCacheHostileSizesAreRefused() {
        func packet(type: UInt16, size: UInt32, capacity: UInt32) -> Data {
            var bytes = Data("#!AER-DAT3.1\r\n#!END-HEADER\r\n".utf8)
            withUnsafeBytes(of: type.littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: [1, 0])
            for field in [size, 4, 0, capacity, capacity, capacity] {
                withUnsafeBytes(of: field.littleEndian) { bytes.append(contentsOf: $0) }
            }
            return bytes + Data(count: 16)
        }
        assertDataError(["huge.aedat", "announces 4294967295 events of 4294967295 bytes, only 16 bytes follow"]) {
            _ = try AEDAT.readVersion3(packet(type: 1, size: .max, capacity: .max), file: "huge.aedat")
        }
        assertDataError(["empty.aedat", "events of 0 bytes, expected at least 8"]) {
            _ = try AEDAT.readVersion3(packet(type: 1, size: 0, capacity: .max), file: "empty.aedat")
        }
        // Events of 0 bytes in a packet of another type are skipped, not looped over.
        XCTAssertEqual(try AEDAT.readVersion3(packet(type: 0, size: 0, capacity: .max).prefix(56), file: "x").count, 0)

        let key = FrameCache.Key(frames: 2, channels: 2, height: 4, width: 4, classes: 11, split: .number, fingerprint: 7)
        var header = Data(FrameCache.magic)
        for field: UInt32 in [1, 2, 2, 4, 4, .max, 11, 0] {
            withUnsafeBytes(of: field.littleEndian) { header.append(contentsOf: $0) }
        }
        withUnsafeBytes(of: UInt64(7).littleEndian) { header.append(contentsOf: $0) }
        header.append(Data(count: 64 - header.count))
        let result = header.withUnsafeBytes { FrameCache.check($0, key: key, name: "huge.frames") }
        guard case .failure(let error) = result else { return XCTFail("a cache of 2^32 − 1 samples in 64 bytes was accepted") }
        XCTAssertTrue(error.description.contains("huge.frames: 64 bytes, expected 1116691496764 for 4294967295 samples (truncated)"),
                      error.description)
    }

    /// Found by the `RunArguments` target: a number JSON holds as a large
    /// integral double (7777777771777777770.1) read as "7.777777771777778e+18",
    /// was written 7777777771777778000 and then read as that integer — the
    /// text of a value changed between two reads. Integral values now read
    /// as integers, so a write and a read keep the text.
    func testRunArgumentsNumberTextSurvivesAWriteAndARead() throws {
        for literal in ["7777777771777777770.1", "1e19", "-0.0", "2.0", "1e300", "-1e19", "0.1", "18446744073709551615"] {
            let json = #"{"format":"clif-mpi-arguments/1","values":{"am":\#(literal)}}"#
            let read = try RunArguments(json: json, file: "fuzz")
            let again = try RunArguments(json: read.json, file: "fuzz")
            XCTAssertEqual(again["am"], read["am"], literal)
            XCTAssertEqual(read["am"].flatMap(Double.init), Double(literal), literal)
        }
    }
}
