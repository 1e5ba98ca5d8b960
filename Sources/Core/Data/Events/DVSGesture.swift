import Foundation

/// DVS128 Gesture (IBM) from its raw recordings: `user*_*.aedat` (AEDAT 3.1),
/// `user*_*_labels.csv` (`class,startTime_usec,endTime_usec` per gesture,
/// class 1…11) and `trials_to_train.txt` / `trials_to_test.txt`.
///
/// Each CSV row becomes one sample — the events with `start <= t < end`,
/// label `class − 1` — integrated into T frames of 2×128×128 counts, as
/// spikingjelly 0.0.0.0.12's `DVS128Gesture(data_type='frame')`. Samples are
/// in trial-list order, then CSV order.
public enum DVSGesture {
    public static let classes = 11, side = 128

    /// Where the recordings are: `-data_dir` itself, `DvsGesture/` in it, or
    /// spikingjelly's `extract/DvsGesture/`.
    public static func recordingsFolder(in directory: URL) throws -> URL {
        let candidates = [directory, directory.appendingPathComponent("DvsGesture"),
                          directory.appendingPathComponent("extract/DvsGesture")]
        guard let found = candidates.first(where: {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("trials_to_train.txt").path)
        }) else {
            throw DataError("no DVS128 Gesture recordings: expected trials_to_train.txt, trials_to_test.txt and user*_*.aedat with their *_labels.csv in \(candidates.map(\.path).joined(separator: " or ")); unpack DvsGesture.tar.gz there")
        }
        return found
    }

    /// The trial files listed in `trials_to_{train,test}.txt`.
    public static func trials(in folder: URL, train: Bool) throws -> [URL] {
        let list = folder.appendingPathComponent(train ? "trials_to_train.txt" : "trials_to_test.txt")
        guard let data = try? Data(contentsOf: list) else {
            throw DataError("cannot read \(list.path); expected one user*_*.aedat name per line")
        }
        return try trials(data, file: list.path).map { folder.appendingPathComponent($0) }
    }

    /// The recording names of the bytes of a `trials_to_{train,test}.txt`
    /// (`file` names it in errors): one `.aedat` file name of the same folder per line.
    static func trials(_ data: Data, file: String) throws -> [String] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError("\(file): the trial list is not UTF-8 text; expected one user*_*.aedat name per line")
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (number, name) in names.enumerated() where !name.hasSuffix(".aedat") || name.contains("/") || name.contains("\0") {
            throw DataError("\(file): entry \(number + 1) is `\(name.prefix(80))`; expected the name of a .aedat recording in the same folder (like user01_fluorescent.aedat)")
        }
        return names
    }

    /// One gesture of a recording.
    public struct Gesture: Sendable, Equatable {
        public var label: Int, start: Int64, end: Int64
    }

    /// The rows of a `*_labels.csv` (first line a header).
    public static func gestures(_ csv: URL) throws -> [Gesture] {
        guard let data = try? Data(contentsOf: csv) else {
            throw DataError("cannot read the gesture labels \(csv.path) (expected next to its .aedat recording)")
        }
        return try gestures(data, file: csv.path)
    }

    /// The rows of the bytes of a `*_labels.csv` (`file` names it in errors).
    static func gestures(_ data: Data, file: String) throws -> [Gesture] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError("\(file): the gesture labels are not UTF-8 text; expected `class,startTime_usec,endTime_usec` lines")
        }
        return try text.split(whereSeparator: \.isNewline).dropFirst().enumerated().compactMap { row, line in
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !(fields.count == 1 && fields[0].isEmpty) else { return nil }
            guard fields.count == 3, let label = Int(fields[0]), let start = Int64(fields[1]), let end = Int64(fields[2]),
                  (1...classes).contains(label) else {
                throw DataError("\(file) line \(row + 2): expected `class,startTime_usec,endTime_usec` with class 1…\(classes), found `\(line.prefix(80))`")
            }
            return Gesture(label: label - 1, start: start, end: end)
        }
    }

    /// The split as frames, from the cache under `directory` or built from
    /// the recordings (then cached).
    public static func load(directory: URL, train: Bool, frames: Int, split: FrameSplit,
                            note: (String) -> Void = { _ in }) throws -> FrameSet {
        let folder = try recordingsFolder(in: directory)
        let recordings = try trials(in: folder, train: train)
        func labelsFile(_ recording: URL) -> URL {
            recording.deletingLastPathComponent()
                .appendingPathComponent(recording.deletingPathExtension().lastPathComponent + "_labels.csv")
        }
        let sources = recordings.flatMap { [$0, labelsFile($0)] }
        let key = FrameCache.Key(frames: frames, channels: 2, height: side, width: side, classes: classes, split: split,
                                 fingerprint: FrameCache.fingerprint(["dvsgesture", "\(frames)", split.rawValue, "\(side)"],
                                                                     sources: sources))
        let cache = directory.appendingPathComponent("clif_mpi_frames_number_\(frames)_split_by_\(split.rawValue)")
            .appendingPathComponent(train ? "dvsgesture_train.frames" : "dvsgesture_test.frames")
        // Every (recording, gesture) in order; a recording is parsed once for all its gestures.
        var cuts: [(recording: Int, gesture: Gesture)] = []
        let plan = {
            for (r, recording) in recordings.enumerated() {
                for gesture in try gestures(labelsFile(recording)) { cuts.append((r, gesture)) }
            }
        }
        var current: (index: Int, events: EventStream)?
        return try FrameCache.cached(cache, key: key, labels: {
            try plan()
            return cuts.map(\.gesture.label)
        }, sample: { i in
            let (r, gesture) = cuts[i]
            let recording: EventStream
            if let current, current.index == r {
                recording = current.events
            } else {
                recording = try AEDAT.read(recordings[r], AEDAT.readVersion3)
                current = (r, recording)
            }
            let events = recording.events(from: gesture.start, to: gesture.end)
            return try EventFrames.integrate(events, split: split, frames: frames, height: side, width: side,
                                             source: "\(recordings[r].path) (gesture \(gesture.label + 1), \(gesture.start)–\(gesture.end) µs)")
        }, note: note)
    }
}
