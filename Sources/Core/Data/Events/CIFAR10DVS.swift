import Foundation

/// CIFAR10-DVS from its AEDAT 2.0 recordings, one folder per class
/// (`airplane/cifar10_airplane_0.aedat` …), as the original's `CIFAR10DVS`
/// reads them: per class, files in index order, the first ⌊9n/10⌋ train and
/// the rest test; T frames split by number (`normalization=None`), each
/// 2×128×128 frame resized to 48×48 (`FrameResize`), cached on disk.
public enum CIFAR10DVS {
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    public static let side = 48, sensor = 128

    /// Where the class folders are: `-data_dir` itself, or the original's
    /// `events/` or spikingjelly's `extract/` in it.
    public static func eventsFolder(in directory: URL) throws -> URL {
        let candidates = [directory, directory.appendingPathComponent("events"), directory.appendingPathComponent("extract")]
        guard let found = candidates.first(where: { folder in
            classNames.allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
        }) else {
            throw DataError("no CIFAR10-DVS recordings: expected the class folders \(classNames.joined(separator: ", ")) holding cifar10_<class>_<i>.aedat files in \(candidates.map(\.path).joined(separator: " or "))")
        }
        return found
    }

    /// The `.aedat` files of a class folder in index order (the number after
    /// the last `_`; names without one sort after, by name).
    public static func recordings(of folder: URL) throws -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let files = names.filter { $0.hasSuffix(".aedat") }
        guard !files.isEmpty else { throw DataError("\(folder.path) holds no .aedat files (expected cifar10_<class>_<i>.aedat)") }
        func index(_ name: String) -> Int {
            Int(name.dropLast(".aedat".count).split(separator: "_").last ?? "") ?? Int.max
        }
        return files.sorted { (index($0), $0) < (index($1), $1) }.map { folder.appendingPathComponent($0) }
    }

    /// The split as 2×48×48 frames, from the cache under `directory` or built (then cached).
    public static func load(directory: URL, train: Bool, frames: Int, split: FrameSplit = .number,
                            note: (String) -> Void = { _ in }) throws -> FrameSet {
        let folder = try eventsFolder(in: directory)
        var files: [(url: URL, label: Int)] = []
        for (label, name) in classNames.enumerated() {
            let all = try recordings(of: folder.appendingPathComponent(name))
            let cut = all.count * 9 / 10
            files += (train ? all[..<cut] : all[cut...]).map { ($0, label) }
        }
        let key = FrameCache.Key(frames: frames, channels: 2, height: side, width: side, classes: classNames.count, split: split,
                                 fingerprint: FrameCache.fingerprint(["DVSCIFAR10", "\(frames)", split.rawValue, "\(side)"],
                                                                     sources: files.map(\.url)))
        let cache = directory.appendingPathComponent("clif_mpi_frames_number_\(frames)_split_by_\(split.rawValue)_\(side)x\(side)")
            .appendingPathComponent(train ? "dvscifar10_train.frames" : "dvscifar10_test.frames")
        return try FrameCache.cached(cache, key: key, labels: { files.map(\.label) }, sample: { i in
            try recordingFrames(files[i].url, frames: frames, split: split)
        }, note: note)
    }

    /// One recording as `[T, 2, 48, 48]` resized counts.
    public static func recordingFrames(_ url: URL, frames: Int, split: FrameSplit) throws -> [Float] {
        let events = try AEDAT.read(url, AEDAT.readVersion2)
        let full = try EventFrames.integrate(events, split: split, frames: frames, height: sensor, width: sensor, source: url.path)
        return FrameResize.resize(full, planes: frames * 2, height: sensor, width: sensor, toHeight: side, width: side)
    }
}
