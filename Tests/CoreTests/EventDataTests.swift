import Foundation
import XCTest
@testable import Core

/// The DVS readers against spikingjelly 0.0.0.0.12 (and the original's
/// CIFAR10-DVS decoding) on the event files of tools/make_event_fixtures.py.
final class EventDataTests: XCTestCase {
    var events: URL { Fixture.root.appendingPathComponent("events") }

    /// Dense values from a fixture's (flat index, value) pairs.
    func dense(_ file: SafeTensorsFile, _ index: String, _ value: String, count: Int) throws -> [Float] {
        var out = [Float](repeating: 0, count: count)
        let i = try file.required(index).data, v = try file.required(value).data
        for (k, position) in i.enumerated() { out[Int(position)] = v[k] }
        return out
    }

    /// Exact equality of two frame arrays, reporting the first difference (not the arrays).
    func assertSameFrames(_ actual: [Float], _ expected: [Float], _ what: String,
                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
        if let i = (0..<min(actual.count, expected.count)).first(where: { actual[$0] != expected[$0] }) {
            XCTFail("\(what): first difference at \(i): \(actual[i]) vs \(expected[i])", file: file, line: line)
        }
    }

    /// A scratch copy of a fixture folder (the loaders write their caches next to the data).
    func scratchCopy(_ folder: String) throws -> URL {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("clif-events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let copy = target.appendingPathComponent(folder)
        try FileManager.default.copyItem(at: events.appendingPathComponent(folder), to: copy)
        addTeardownBlock { try? FileManager.default.removeItem(at: target) }
        return copy
    }

    func testAEDAT31ReaderMatchesSpikingjelly() throws {
        let golden = try Fixture.load("events/dvsgesture_frames")
        let url = events.appendingPathComponent("dvsgesture/user01_fluorescent.aedat")
        let stream = try AEDAT.read(url, AEDAT.readVersion3)
        XCTAssertEqual(Float(stream.count), try golden.required("user01_count").data[0])
        XCTAssertEqual(stream.x.map(Float.init), try golden.required("user01_x").data)
        XCTAssertEqual(stream.y.map(Float.init), try golden.required("user01_y").data)
        XCTAssertEqual(stream.p.map(Float.init), try golden.required("user01_p").data)
        // The special-event packet is skipped; the overflow packet's event lands after 2^31 µs.
        XCTAssertEqual(stream.t.last, 3 + (1 << 31))
    }

    func testGestureFramesEqualSpikingjellys() throws {
        let golden = try Fixture.load("events/dvsgesture_frames")
        let folder = events.appendingPathComponent("dvsgesture")
        var k = 0, labels: [Float] = []
        for train in [true, false] {
            for recording in try DVSGesture.trials(in: folder, train: train) {
                let stream = try AEDAT.read(recording, AEDAT.readVersion3)
                let csv = folder.appendingPathComponent(recording.deletingPathExtension().lastPathComponent + "_labels.csv")
                for gesture in try DVSGesture.gestures(csv) {
                    let cut = stream.events(from: gesture.start, to: gesture.end)
                    XCTAssertGreaterThan(cut.count, 10)
                    for split in FrameSplit.allCases {
                        let frames = try EventFrames.integrate(cut, split: split, frames: 4, height: 128, width: 128, source: "test")
                        let expected = try dense(golden, "sample\(k)_\(split)_index", "sample\(k)_\(split)_count", count: frames.count)
                        assertSameFrames(frames, expected, "sample \(k) split by \(split)")
                        XCTAssertEqual(frames.reduce(0, +), Float(cut.count))
                    }
                    labels.append(Float(gesture.label)); k += 1
                }
            }
        }
        XCTAssertEqual(k, 5)
        XCTAssertEqual(labels, try golden.required("labels").data)
    }

    func testCIFAR10DVSFramesEqualTheOriginals() throws {
        let golden = try Fixture.load("events/dvscifar10_frames")
        let folder = try CIFAR10DVS.eventsFolder(in: events.appendingPathComponent("DVSCIFAR10"))
        var r = 0, worst: Float = 0
        for name in CIFAR10DVS.classNames {
            for url in try CIFAR10DVS.recordings(of: folder.appendingPathComponent(name)) {
                let stream = try AEDAT.read(url, AEDAT.readVersion2)
                let raw = try EventFrames.integrate(stream, split: .number, frames: 3, height: 128, width: 128, source: url.path)
                assertSameFrames(raw, try dense(golden, "rec\(r)_raw_index", "rec\(r)_raw_count", count: raw.count), url.lastPathComponent)
                let resized = try CIFAR10DVS.recordingFrames(url, frames: 3, split: .number)
                let expected = try dense(golden, "rec\(r)_index", "rec\(r)_value", count: 3 * 2 * 48 * 48)
                let scale = expected.map(abs).max() ?? 1
                let error = zip(resized, expected).map { abs($0 - $1) }.max()! / scale
                worst = max(worst, error)
                XCTAssertLessThanOrEqual(error, 1e-6, url.lastPathComponent)
                r += 1
            }
        }
        XCTAssertEqual(r, 20)
        DifferenceLog.record("events: DVS-CIFAR10 resize 128→48", worst)
    }

    func testGestureDatasetCachesAndRebuildsStaleOrCorruptCaches() throws {
        let golden = try Fixture.load("events/dvsgesture_frames")
        let folder = try scratchCopy("dvsgesture")
        var notes: [String] = []
        let train = try DVSGesture.load(directory: folder, train: true, frames: 4, split: .number) { notes.append($0) }
        XCTAssertEqual(notes.count, 1, "\(notes)")
        XCTAssertEqual(train.labels, [2, 10, 2])
        for k in 0..<3 {
            assertSameFrames(train.sample(k), try dense(golden, "sample\(k)_number_index", "sample\(k)_number_count", count: train.sampleSize), "train \(k)")
        }
        let test = try DVSGesture.load(directory: folder, train: false, frames: 4, split: .time) { notes.append($0) }
        XCTAssertEqual(test.labels, [0, 6])
        assertSameFrames(test.sample(1), try dense(golden, "sample4_time_index", "sample4_time_count", count: test.sampleSize), "test 1 by time")
        // The second pass reads the cache.
        notes = []
        assertSameFrames(try DVSGesture.load(directory: folder, train: true, frames: 4, split: .number) { notes.append($0) }.sample(1),
                         train.sample(1), "cached train 1")
        XCTAssertEqual(notes, [])
        // A flipped byte in the cache: caught by its CRC, rebuilt. (`train` maps the
        // file, whose in-place change it sees: compare with the fixture.)
        let cache = folder.appendingPathComponent("clif_mpi_frames_number_4_split_by_number/dvsgesture_train.frames")
        var bytes = try Data(contentsOf: cache)
        bytes[bytes.count - 5] ^= 0x40
        try bytes.write(to: cache)
        let rebuilt = try DVSGesture.load(directory: folder, train: true, frames: 4, split: .number) { notes.append($0) }
        assertSameFrames(rebuilt.sample(2), try dense(golden, "sample2_number_index", "sample2_number_count", count: train.sampleSize), "rebuilt 2")
        XCTAssertTrue(notes.count == 1 && notes[0].contains("corrupt") && notes[0].contains(cache.path), "\(notes)")
        // A truncated cache and a changed recording both rebuild.
        notes = []
        try bytes.prefix(100).write(to: cache)
        _ = try DVSGesture.load(directory: folder, train: true, frames: 4, split: .number) { notes.append($0) }
        let csv = folder.appendingPathComponent("user01_fluorescent_labels.csv")
        try (try String(contentsOf: csv, encoding: .utf8) + "5,1000,9000\n").write(to: csv, atomically: true, encoding: .utf8)
        let grown = try DVSGesture.load(directory: folder, train: true, frames: 4, split: .number) { notes.append($0) }
        XCTAssertEqual(grown.labels, [2, 10, 2, 4])
        XCTAssertTrue(notes.count == 2 && notes[0].contains("bytes") && notes[1].contains("stale"), "\(notes)")
    }

    func testCIFAR10DVSSplitsNinetyTenPerClassAndCaches() throws {
        let folder = try scratchCopy("DVSCIFAR10")
        let data = try DatasetCatalog.load("DVSCIFAR10", dataDirectory: folder, frames: 3)
        XCTAssertEqual(data.train.count, 10); XCTAssertEqual(data.test.count, 10)
        XCTAssertEqual(data.train.labels, Array(0..<10)); XCTAssertEqual(data.test.labels, Array(0..<10))
        XCTAssertEqual([data.channels, data.height, data.width, data.classes], [2, 48, 48, 10])
        XCTAssertEqual(data.framesPerSample, 3)
        let test = try XCTUnwrap(data.test as? FrameSet)
        let expected = try CIFAR10DVS.recordingFrames(folder.appendingPathComponent("bird/cifar10_bird_1.aedat"), frames: 3, split: .number)
        assertSameFrames(test.sample(2), expected, "bird test sample")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("clif_mpi_frames_number_3_split_by_number_48x48/dvscifar10_test.frames").path))
    }

    func testCorruptAndTruncatedEventFilesNameTheFile() throws {
        let dir = try scratchCopy("dvsgesture")
        let url = dir.appendingPathComponent("user01_fluorescent.aedat")
        let good = try Data(contentsOf: url)
        let headerEnd = good.range(of: Data("#!END-HEADER\r\n".utf8))!.upperBound
        try good.prefix(good.count - 3).write(to: url)
        assertDataError([url.path, "truncated", "announces"]) { _ = try AEDAT.read(url, AEDAT.readVersion3) }
        try good.prefix(headerEnd + 20).write(to: url)
        assertDataError([url.path, "truncated", "28 bytes"]) { _ = try AEDAT.read(url, AEDAT.readVersion3) }
        try Data("#!AER-DAT3.1\r\n#Format: RAW\r\n".utf8).write(to: url)
        assertDataError([url.path, "END-HEADER"]) { _ = try AEDAT.read(url, AEDAT.readVersion3) }
        // An event at x = 200 (inside the first gesture) does not fit the 128×128 sensor.
        var wide = good
        let first = headerEnd + 28 + 8 * 100
        wide.replaceSubrange(first..<(first + 4), with: withUnsafeBytes(of: (UInt32(200) << 17 | 1).littleEndian) { Data($0) })
        try wide.write(to: url)
        let stream = try AEDAT.read(url, AEDAT.readVersion3)
        assertDataError([url.path, "x 200", "128×128"]) {
            _ = try EventFrames.integrate(stream, split: .number, frames: 2, height: 128, width: 128, source: url.path)
        }
        assertDataError([url.path, "x 200"]) { _ = try DVSGesture.load(directory: dir, train: true, frames: 2, split: .number) }
        let csv = dir.appendingPathComponent("user02_led_labels.csv")
        try "class,startTime_usec,endTime_usec\n12,5,9\n".write(to: csv, atomically: true, encoding: .utf8)
        assertDataError([csv.path, "line 2", "class 1…11", "12,5,9"]) { _ = try DVSGesture.gestures(csv) }
        assertDataError(["no DVS128 Gesture recordings", "trials_to_train.txt"]) {
            _ = try DVSGesture.load(directory: dir.appendingPathComponent("missing"), train: true, frames: 2, split: .number)
        }

        let cifar = try scratchCopy("DVSCIFAR10")
        let recording = cifar.appendingPathComponent("cat/cifar10_cat_0.aedat")
        let bytes = try Data(contentsOf: recording)
        try bytes.prefix(bytes.count - 5).write(to: recording)
        assertDataError([recording.path, "truncated", "multiple of 8"]) { _ = try AEDAT.read(recording, AEDAT.readVersion2) }
        assertDataError([recording.path, "truncated"]) { _ = try DatasetCatalog.load("DVSCIFAR10", dataDirectory: cifar, frames: 2) }
        try FileManager.default.removeItem(at: cifar.appendingPathComponent("truck"))
        assertDataError(["no CIFAR10-DVS recordings", "truck"]) { _ = try CIFAR10DVS.load(directory: cifar, train: true, frames: 2) }
    }

    /// The trial lists name recordings of their own folder, one per line.
    func testTrialListsNameRecordingsOfTheirFolder() throws {
        let list = Data("user01_fluorescent.aedat\r\n\n  user02_led.aedat \n".utf8)
        XCTAssertEqual(try DVSGesture.trials(list, file: "t.txt"), ["user01_fluorescent.aedat", "user02_led.aedat"])
        for (text, found) in [("user01.aedat\n../../etc/passwd.aedat\n", "entry 2 is `../../etc/passwd.aedat`"),
                              ("user01_labels.csv\n", "entry 1 is `user01_labels.csv`")] {
            assertDataError(["t.txt", found, "a .aedat recording in the same folder"]) {
                _ = try DVSGesture.trials(Data(text.utf8), file: "t.txt")
            }
        }
        assertDataError(["t.txt", "not UTF-8"]) { _ = try DVSGesture.trials(Data([0xff, 0xfe]), file: "t.txt") }
    }

    func testSplitByTimeRefusesEmptyWindows() {
        let stream = EventStream(t: [0, 1, 2, 100], x: [1, 2, 3, 4], y: [0, 0, 0, 0], p: [0, 1, 0, 1])
        assertDataError(["sample.aedat", "frame 1 of 4", "no events"]) {
            _ = try EventFrames.integrate(stream, split: .time, frames: 4, height: 4, width: 8, source: "sample.aedat")
        }
        // By number: ⌊4/3⌋ = 1 event per frame, the last frame takes the rest.
        XCTAssertEqual(try EventFrames.segments(stream.t, split: .number, frames: 3, source: ""), [0..<1, 1..<2, 2..<4])
    }

    /// The train-time rotation against PIL's `Image.rotate` (NEAREST, zero fill, same size).
    func testRotationMatchesPIL() throws {
        let golden = try Fixture.load("events/dvscifar10_frames")
        for name in ["small", "frame"] {
            let input = try golden.required("rotate_\(name)_input")
            let (h, w) = (input.shape[0], input.shape[1])
            for degrees in [-15, -7, 5, 14] {
                let expected = try golden.required("rotate_\(name)_\(degrees < 0 ? "m" : "")\(abs(degrees))").data
                let rotated = FrameAugmentation.rotate(input.data, planes: 1, height: h, width: w, degrees: degrees)
                assertSameFrames(rotated, expected, "\(name) \(h)×\(w) rotated \(degrees)°")
                XCTAssertNotEqual(rotated, input.data)
            }
        }
    }

    func testFrameAugmentationAndBatchLayout() throws {
        var values: [Float] = []
        for i in 0..<(2 * 3 * 2 * 8 * 8) { values.append(Float(i % 7)) }
        let set = FrameSet(frames: 3, channels: 2, height: 8, width: 8, labels: [1, 4], classes: 5, values: FrameBuffer(values))
        var flipped = set.sample(0)
        FrameAugmentation.flipHorizontally(&flipped, planes: 6, height: 8, width: 8)
        XCTAssertNotEqual(flipped, set.sample(0))
        FrameAugmentation.flipHorizontally(&flipped, planes: 6, height: 8, width: 8)
        XCTAssertEqual(flipped, set.sample(0))
        XCTAssertEqual(FrameAugmentation.rotate(set.sample(0), planes: 6, height: 8, width: 8, degrees: 0), set.sample(0))
        // A centred 2×2 block survives any small rotation about the centre.
        var block = [Float](repeating: 0, count: 64)
        for (y, x) in [(3, 3), (3, 4), (4, 3), (4, 4)] { block[y * 8 + x] = 1 }
        for degrees in [-15, -7, 5, 14] {
            XCTAssertEqual(FrameAugmentation.rotate(block, planes: 1, height: 8, width: 8, degrees: degrees), block, "\(degrees)°")
        }
        // A corner pixel leaves the frame when rotated by 14°, as in PIL (zero fill).
        var corner = [Float](repeating: 0, count: 64); corner[0] = 1
        XCTAssertEqual(FrameAugmentation.rotate(corner, planes: 1, height: 8, width: 8, degrees: 14).reduce(0, +), 0)

        // Batches are [T, N, C, H, W]: frame t of sample j at [t, j].
        let source = BatchSource(set: set, batchSize: 2, normalization: .identity(channels: 2), augmentation: .none,
                                 shuffle: false, seed: 1)
        let batch = source.prepare([1, 0], epoch: 0)
        XCTAssertEqual(batch.images.shape, [3, 2, 2, 8, 8])
        XCTAssertTrue(batch.perStep)
        XCTAssertEqual(batch.labels, [4, 1])
        let image = 2 * 64
        for t in 0..<3 {
            for (j, sample) in [1, 0].enumerated() {
                XCTAssertEqual(Array(batch.images.data[((t * 2 + j) * image)..<((t * 2 + j + 1) * image)]),
                               Array(set.sample(sample)[(t * image)..<((t + 1) * image)]))
            }
        }
        XCTAssertEqual(batch.networkInput(timeSteps: 3), batch.images)
        // Augmentation draws depend on (seed, epoch, sample) only: same batch, same values.
        var augmentation = Augmentation(horizontalFlip: true)
        augmentation.rotationDegrees = 15
        let augmented = BatchSource(set: set, batchSize: 2, normalization: .identity(channels: 2), augmentation: augmentation,
                                    shuffle: true, seed: 9)
        XCTAssertEqual(augmented.prepare([0, 1], epoch: 2).images, augmented.prepare([0, 1], epoch: 2).images)
        XCTAssertEqual(augmented.prepare([0, 1], epoch: 2).images.data.count, batch.images.data.count)
    }
}
