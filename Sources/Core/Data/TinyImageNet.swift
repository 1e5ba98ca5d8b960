import Foundation

/// Tiny-ImageNet in its standard folder layout (`tiny-imagenet-200/`):
///
///     wnids.txt                      one WordNet id per line (200)
///     train/<wnid>/images/*.JPEG     500 training images per class
///     val/images/*.JPEG              10,000 validation images (the test split)
///     val/val_annotations.txt        "<file>\t<wnid>\t<box…>" per validation image
///
/// Every image is decoded once at load time (in parallel) to `[N, 3, 64, 64]`
/// bytes: 1.2 GB for the whole training split.
///
/// Order and labels follow the original's `TinyImageNet` dataset class: the
/// class index is the position of the wnid in the sorted list of training
/// class folders (which must be the wnids of `wnids.txt`); training images are
/// taken class by class, each class's `.JPEG` files sorted by folder, then
/// name; validation images in sorted file-name order. The original indexes
/// validation labels by the sorted wnids of `val_annotations.txt` instead,
/// which is the same list whenever the validation split covers every class
/// (as the real one does); here an annotation naming a wnid without a training
/// folder is an error.
public enum TinyImageNet {
    public static let folderName = "tiny-imagenet-200"
    public static let side = 64

    public enum Split: Sendable { case train, test }

    /// The dataset root: `directory` itself when it holds `wnids.txt`, else
    /// `directory/tiny-imagenet-200`.
    public static func root(in directory: URL) throws -> URL {
        let fm = FileManager.default
        if fm.fileExists(atPath: directory.appendingPathComponent("wnids.txt").path) { return directory }
        let nested = directory.appendingPathComponent(folderName)
        if fm.fileExists(atPath: nested.appendingPathComponent("wnids.txt").path) { return nested }
        throw DataError("Tiny-ImageNet: neither \(directory.path) nor \(nested.path) holds wnids.txt; -data_dir should be the folder that tiny-imagenet-200.zip extracts to (with wnids.txt, train/, val/) or its parent")
    }

    /// The class wnids in class-index order (sorted), checked against the training folders.
    public static func classes(root: URL) throws -> [String] {
        let wnidsFile = root.appendingPathComponent("wnids.txt")
        let data: Data
        do { data = try Data(contentsOf: wnidsFile) } catch {
            throw DataError("Tiny-ImageNet: cannot read \(wnidsFile.path): \(error.localizedDescription)")
        }
        let wnids = try self.wnids(data, file: wnidsFile.path)
        let trainDir = root.appendingPathComponent("train")
        let folders = try subfolders(of: trainDir)
        let missing = Set(wnids).subtracting(folders).sorted(), extra = Set(folders).subtracting(wnids).sorted()
        guard missing.isEmpty && extra.isEmpty else {
            let parts = (missing.isEmpty ? [] : ["no folder for \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? " (\(missing.count) in all)" : "")"])
                + (extra.isEmpty ? [] : ["folders not in wnids.txt: \(extra.prefix(5).joined(separator: ", "))"])
            throw DataError("Tiny-ImageNet: \(trainDir.path) does not match \(wnidsFile.path): \(parts.joined(separator: "; ")); extract tiny-imagenet-200.zip again")
        }
        return folders.sorted()
    }

    /// The class ids of the bytes of a `wnids.txt`, one per line, in file
    /// order (`file` names it in errors).
    static func wnids(_ data: Data, file: String) throws -> [String] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError("Tiny-ImageNet: \(file) is not UTF-8 text; expected one wnid (like n01443537) per line")
        }
        let wnids = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !wnids.isEmpty else { throw DataError("Tiny-ImageNet: \(file) lists no class ids; expected one wnid (like n01443537) per line") }
        guard Set(wnids).count == wnids.count else { throw DataError("Tiny-ImageNet: \(file) lists a class id twice") }
        return wnids
    }

    /// The class index of each validation image of the bytes of a
    /// `val_annotations.txt` (`<file>\t<wnid>\t<box…>` lines), with `index`
    /// giving each wnid's class; `file` names it in errors.
    static func validationLabels(_ data: Data, file: String, index: [String: Int]) throws -> [String: Int] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError("Tiny-ImageNet: \(file) is not UTF-8 text; expected \"<file>\\t<wnid>\\t…\" lines")
        }
        var labelOf: [String: Int] = [:]
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2, !fields[0].isEmpty else {
                throw DataError("Tiny-ImageNet: \(file) line \(number + 1) is \"\(line.prefix(80))\"; expected \"<file>\\t<wnid>\\t…\"")
            }
            let wnid = String(fields[1])
            guard let label = index[wnid] else {
                throw DataError("Tiny-ImageNet: \(file) line \(number + 1) names class \(wnid.prefix(80)), which has no folder in train/ and is not in wnids.txt")
            }
            labelOf[String(fields[0])] = label
        }
        return labelOf
    }

    /// The image files of `split` and their class indices, in dataset order.
    public static func listing(root: URL, split: Split, classes: [String]) throws -> [(file: URL, label: Int)] {
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        switch split {
        case .train:
            var items: [(URL, Int)] = []
            for (label, wnid) in classes.enumerated() {
                let files = try jpegFiles(under: root.appendingPathComponent("train").appendingPathComponent(wnid))
                items += files.map { ($0, label) }
            }
            return items
        case .test:
            let val = root.appendingPathComponent("val")
            let annotationsFile = val.appendingPathComponent("val_annotations.txt")
            let data: Data
            do { data = try Data(contentsOf: annotationsFile) } catch {
                throw DataError("Tiny-ImageNet: cannot read \(annotationsFile.path) (the validation labels): \(error.localizedDescription)")
            }
            let labelOf = try validationLabels(data, file: annotationsFile.path, index: index)
            return try jpegFiles(under: val.appendingPathComponent("images")).map { file in
                guard let label = labelOf[file.lastPathComponent] else {
                    throw DataError("Tiny-ImageNet: \(file.path) has no line in \(annotationsFile.path); restore the annotation file from the dataset archive")
                }
                return (file, label)
            }
        }
    }

    /// Loads and decodes one split of the dataset under `directory` (see `root(in:)`).
    /// - Parameter progress: called after each block of decoded images with (done, total).
    public static func load(directory: URL, split: Split, progress: ((Int, Int) -> Void)? = nil) throws -> ImageSet {
        let root = try root(in: directory)
        let classes = try classes(root: root)
        let items = try listing(root: root, split: split, classes: classes)
        guard !items.isEmpty else {
            let place = split == .train ? "train/<wnid>/images/" : "val/images/"
            throw DataError("Tiny-ImageNet: no .JPEG files in \(root.appendingPathComponent(place).path)")
        }
        let size = 3 * side * side
        var pixels = [UInt8](repeating: 0, count: items.count * size)
        var errors = [DataError?](repeating: nil, count: items.count)
        let block = 4096
        for start in stride(from: 0, to: items.count, by: block) {
            let end = min(start + block, items.count)
            pixels.withUnsafeMutableBufferPointer { out in
                errors.withUnsafeMutableBufferPointer { failed in
                    Parallel.forEach(end - start) { k in
                        let i = start + k
                        do {
                            let image = try decode(items[i].file)
                            for j in 0..<size { out[i * size + j] = image.planes[j] }
                        } catch let error as DataError {
                            failed[i] = error
                        } catch {
                            failed[i] = DataError("\(items[i].file.path): \(error.localizedDescription)")
                        }
                    }
                }
            }
            if let first = errors[start..<end].lazy.compactMap({ $0 }).first {
                throw DataError("Tiny-ImageNet: \(first.description)")
            }
            progress?(end, items.count)
        }
        return ImageSet(channels: 3, height: side, width: side, pixels: pixels, labels: items.map(\.label),
                        classes: classes.count, maxValue: 255)
    }

    /// One image file as 3×64×64 RGB bytes.
    static func decode(_ file: URL) throws -> JPEG.Image {
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw DataError("cannot read \(file.path): \(error.localizedDescription)")
        }
        return try decode(data, file: file.path)
    }

    /// The bytes of one image file as 3×64×64 RGB bytes; any other size is
    /// refused from the JPEG header, before decoding.
    static func decode(_ data: Data, file: String) throws -> JPEG.Image {
        try JPEG.decodeRGB(data, file: file, size: (side, side),
                           sizeNote: "; every Tiny-ImageNet image is \(side)×\(side) (the original's batches need that size too)")
    }

    static func subfolders(of folder: URL) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError("Tiny-ImageNet: the folder \(folder.path) is missing; extract tiny-imagenet-200.zip again")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        return names.filter { name in
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &d) && d.boolValue
        }
    }

    /// `.JPEG` files anywhere under `folder`, sorted by (folder path, file name) like the original's `sorted(os.walk(…))`.
    static func jpegFiles(under folder: URL) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError("Tiny-ImageNet: the folder \(folder.path) is missing; extract tiny-imagenet-200.zip again")
        }
        var found: [(folder: String, name: String)] = []
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".JPEG") else { continue }
            let url = URL(fileURLWithPath: relative, relativeTo: folder)
            found.append((url.deletingLastPathComponent().standardizedFileURL.path, url.lastPathComponent))
        }
        found.sort { $0.folder != $1.folder ? Array($0.folder.utf8).lexicographicallyPrecedes($1.folder.utf8) : Array($0.name.utf8).lexicographicallyPrecedes($1.name.utf8) }
        return found.map { URL(fileURLWithPath: $0.folder).appendingPathComponent($0.name) }
    }
}
