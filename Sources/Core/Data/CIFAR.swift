import Foundation

/// CIFAR-10 and CIFAR-100 in the folders users have: torchvision's download
/// layout (python pickles, `cifar-10-batches-py/`, `cifar-100-python/`) or the
/// binary versions (`cifar-10-batches-bin/`, `cifar-100-binary/`).
public enum CIFAR {
    public enum Variant: Sendable {
        case cifar10, cifar100

        public var classes: Int { self == .cifar10 ? 10 : 100 }
        var title: String { self == .cifar10 ? "CIFAR-10" : "CIFAR-100" }
        var layouts: [Layout] {
            self == .cifar10
                ? [Layout(folder: "cifar-10-batches-py", isBinary: false, archive: "cifar-10-python.tar.gz"),
                   Layout(folder: "cifar-10-batches-bin", isBinary: true, archive: "cifar-10-binary.tar.gz")]
                : [Layout(folder: "cifar-100-python", isBinary: false, archive: "cifar-100-python.tar.gz"),
                   Layout(folder: "cifar-100-binary", isBinary: true, archive: "cifar-100-binary.tar.gz")]
        }
    }

    public enum Split: Sendable { case train, test }

    struct Layout {
        let folder: String, isBinary: Bool, archive: String

        func files(_ variant: Variant, _ split: Split) -> [String] {
            let suffix = isBinary ? ".bin" : ""
            switch (variant, split) {
            case (.cifar10, .train): return (1...5).map { "data_batch_\($0)\(suffix)" }
            case (.cifar10, .test): return ["test_batch\(suffix)"]
            case (.cifar100, .train): return ["train\(suffix)"]
            case (.cifar100, .test): return ["test\(suffix)"]
            }
        }

        func describe(_ variant: Variant) -> String {
            "\(folder)/ (\((files(variant, .train) + files(variant, .test)).joined(separator: ", ")))"
        }
    }

    static let imageBytes = 3 * 32 * 32

    /// Loads one split of `variant` from `directory` (the `-data_dir`).
    ///
    /// Looks for, in this order, the python then the binary folder inside
    /// `directory`, then for either folder's files in `directory` itself.
    /// - Returns: 3×32×32 images with pixels `[N, 3, 32, 32]` in the files'
    ///   order (1024 red, 1024 green, 1024 blue values, rows top first),
    ///   `maxValue` 255, labels in `0..<10`, or CIFAR-100's fine labels in `0..<100`.
    public static func load(directory: URL, variant: Variant, split: Split) throws -> ImageSet {
        let (folder, layout) = try locate(directory, variant)
        var pixels: [UInt8] = [], labels: [Int] = []
        for file in layout.files(variant, split) {
            let url = folder.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw DataError("\(variant.title): \(url.path) is missing. \(folder.path) should hold "
                                + "\((layout.files(variant, .train) + layout.files(variant, .test)).joined(separator: ", "))"
                                + " as \(layout.archive) extracts them; extract the archive again")
            }
            let batch = layout.isBinary ? try readBinary(url, variant) : try readPython(url, variant)
            pixels += batch.pixels
            labels += batch.labels
        }
        return ImageSet(channels: 3, height: 32, width: 32, pixels: pixels, labels: labels,
                        classes: variant.classes, maxValue: 255)
    }

    static func locate(_ directory: URL, _ variant: Variant) throws -> (URL, Layout) {
        let files = FileManager.default
        func isFolder(_ url: URL) -> Bool {
            var folder: ObjCBool = false
            return files.fileExists(atPath: url.path, isDirectory: &folder) && folder.boolValue
        }
        for layout in variant.layouts where isFolder(directory.appendingPathComponent(layout.folder)) {
            return (directory.appendingPathComponent(layout.folder), layout)
        }
        for layout in variant.layouts {
            let own = layout.files(variant, .train) + layout.files(variant, .test)
            if directory.lastPathComponent == layout.folder
                || own.contains(where: { files.fileExists(atPath: directory.appendingPathComponent($0).path) }) {
                return (directory, layout)
            }
        }
        let archives = variant.layouts.map(\.archive)
            .filter { files.fileExists(atPath: directory.appendingPathComponent($0).path) }
        let hint = archives.isEmpty ? "" : " Found \(archives.joined(separator: " and ")) there: extract it with "
            + "`tar xzf \(archives[0])` in \(directory.path)."
        throw DataError("\(variant.title): no dataset under \(directory.path). Looked for "
                        + variant.layouts.map { $0.describe(variant) }.joined(separator: " and ")
                        + ", inside it and in it directly. -data_dir must be the root the original passes to "
                        + "torchvision's datasets.\(variant == .cifar10 ? "CIFAR10" : "CIFAR100")(root, download=True): "
                        + "the folder holding the extracted \(variant.layouts[0].archive) from "
                        + "https://www.cs.toronto.edu/~kriz/cifar.html.\(hint)")
    }

    static func read(_ url: URL) throws -> [UInt8] {
        do { return [UInt8](try Data(contentsOf: url)) } catch {
            throw DataError("\(url.path): cannot read the file (\(error.localizedDescription))")
        }
    }

    static func checkLabels(_ labels: [Int], _ variant: Variant, _ name: String) throws {
        if let i = labels.firstIndex(where: { $0 < 0 || $0 >= variant.classes }) {
            throw DataError("\(name): image \(i) has the label \(labels[i]), outside 0..<\(variant.classes) "
                            + "of \(variant.title); the file is corrupt or from another dataset")
        }
    }

    /// Binary records: CIFAR-10 `label, 3072 pixels`; CIFAR-100 `coarse, fine, 3072 pixels`.
    static func readBinary(_ url: URL, _ variant: Variant) throws -> (pixels: [UInt8], labels: [Int]) {
        try decodeBinary(try read(url), variant, name: url.path)
    }

    /// A binary batch held in memory; `name` labels errors.
    static func decodeBinary(_ bytes: [UInt8], _ variant: Variant, name: String) throws
        -> (pixels: [UInt8], labels: [Int]) {
        let header = variant == .cifar10 ? 1 : 2
        let record = header + imageBytes
        guard !bytes.isEmpty, bytes.count % record == 0 else {
            let layout = variant == .cifar10 ? "1 label byte + 3072 pixel bytes" : "coarse byte, fine byte, 3072 pixel bytes"
            throw DataError("\(name): holds \(bytes.count) bytes, expected a positive multiple of the "
                            + "\(record)-byte \(variant.title) record (\(layout)); the file is truncated or not a "
                            + "\(variant.title) binary batch — download it again")
        }
        let count = bytes.count / record
        var pixels: [UInt8] = [], labels: [Int] = []
        pixels.reserveCapacity(count * imageBytes)
        labels.reserveCapacity(count)
        for i in 0..<count {
            let start = i * record
            labels.append(Int(bytes[start + header - 1]))
            pixels += bytes[(start + header)..<(start + record)]
        }
        try checkLabels(labels, variant, name)
        return (pixels, labels)
    }

    /// A python batch: a dict with `data` (uint8 `[N, 3072]`) and `labels`
    /// (CIFAR-100: `fine_labels`), keys as Python 2 str or Python 3 str/bytes.
    static func readPython(_ url: URL, _ variant: Variant) throws -> (pixels: [UInt8], labels: [Int]) {
        try decodePython(try read(url), variant, name: url.path)
    }

    /// A python batch held in memory; `name` labels errors.
    static func decodePython(_ bytes: [UInt8], _ variant: Variant, name: String) throws
        -> (pixels: [UInt8], labels: [Int]) {
        let root = try Pickle.parse(bytes, name: name, allowing: .numpyArrays)
        let labelKey = variant == .cifar10 ? "labels" : "fine_labels"
        guard case .dict = root, let data = root["data"], let labelValue = root[labelKey] else {
            let found = root.keyNames.isEmpty ? root.summary : "the keys " + root.keyNames.joined(separator: ", ")
            throw DataError("\(name): expected a \(variant.title) python batch, a dict with the keys 'data' and "
                            + "'\(labelKey)'; found \(found). Check that -dataset matches the files "
                            + "(CIFAR-10 batches have 'labels', CIFAR-100 files 'fine_labels')")
        }
        let array = try NumPyArray(data, source: "\(name), key 'data'")
        guard array.shape.count == 2, array.shape[1] == imageBytes else {
            throw DataError("\(name): expected 'data' of shape [N, 3072] (N images of 3×32×32 bytes); "
                            + "found shape \(array.shape) of \(array.dtype); the file is not a \(variant.title) batch")
        }
        let pixels = try array.uint8Values(source: "\(name), key 'data'")
        let labels = try labelValue.integerArray(source: "\(name), key '\(labelKey)'")
        guard labels.count == array.shape[0] else {
            throw DataError("\(name): 'data' holds \(array.shape[0]) images but '\(labelKey)' \(labels.count) labels")
        }
        try checkLabels(labels, variant, name)
        return (pixels, labels)
    }
}
