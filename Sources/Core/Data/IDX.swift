import Foundation

/// The IDX format of MNIST and Fashion-MNIST: `00 00 type dims`, then `dims`
/// big-endian UInt32 sizes, then the elements in C order. Only type 0x08
/// (unsigned byte) is read; gzipped files are inflated transparently.
public enum IDX {
    /// Any real IDX file inflates to far less (EMNIST's largest: ~550 MB).
    static let inflateLimit = 1 << 30

    /// Reads `url` (raw or gzipped).
    public static func read(_ url: URL) throws -> (shape: [Int], bytes: [UInt8]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DataError("\(url.path): cannot read the file (\(error.localizedDescription))")
        }
        return try decode(data, name: url.path)
    }

    /// Decodes an IDX file held in memory (raw or gzipped); `name` labels errors.
    static func decode(_ data: Data, name: String, inflateLimit: Int = inflateLimit) throws
        -> (shape: [Int], bytes: [UInt8]) {
        let raw = Gzip.isCompressed(data) ? try Gzip.decompress(data, name: name, limit: inflateLimit) : data
        return try parse([UInt8](raw), name: name)
    }

    static func parse(_ bytes: [UInt8], name: String) throws -> (shape: [Int], bytes: [UInt8]) {
        let types: [UInt8: String] = [0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32",
                                      0x0D: "float32", 0x0E: "float64"]
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0, let type = types[bytes[2]], bytes[3] > 0 else {
            let found = bytes.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " ")
            throw DataError("\(name): wrong magic number: expected 00 00 08 0n (an IDX file), found \(found); "
                            + "the file is not an MNIST/Fashion-MNIST IDX file or is damaged — download it again")
        }
        guard bytes[2] == 0x08 else {
            throw DataError("\(name): holds IDX type 0x\(String(format: "%02X", bytes[2])) (\(type)); "
                            + "only 0x08 (unsigned byte), the type of MNIST and Fashion-MNIST, is supported")
        }
        let dims = Int(bytes[3]), header = 4 + 4 * dims
        guard bytes.count >= header else {
            throw DataError("\(name): the header declares \(dims) sizes but the file ends after \(bytes.count) bytes "
                            + "(truncated) — download it again")
        }
        var shape: [Int] = [], elements = 1, overflow = false
        for d in 0..<dims {
            let size = bytes[(4 + 4 * d)..<(8 + 4 * d)].reduce(0) { $0 << 8 | Int($1) }
            shape.append(size)
            (elements, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow else { throw DataError("\(name): the sizes \(shape) overflow") }
        }
        let stored = bytes.count - header
        guard stored == elements else {
            let problem = stored < elements
                ? "only \(stored) follow (truncated) — download it again"
                : "\(stored) follow (\(stored - elements) extra); the file is not a plain IDX file"
            throw DataError("\(name): the header claims shape \(shape), \(elements) bytes of data, but \(problem)")
        }
        return (shape, Array(bytes[header...]))
    }
}

/// MNIST and Fashion-MNIST from their four IDX files, raw or `.gz` (as
/// Debian's dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist).
public enum MNISTFamily {
    public enum Split: Sendable { case train, test }

    static let side = 28

    /// Loads `split` from `directory`: `train-images-idx3-ubyte` +
    /// `train-labels-idx1-ubyte` or `t10k-…`, each optionally with `.gz`.
    /// - Returns: 1×28×28 images (`maxValue` 255), labels in `0..<10`.
    public static func load(directory: URL, split: Split) throws -> ImageSet {
        let prefix = split == .train ? "train" : "t10k"
        let imagesURL = try find("\(prefix)-images-idx3-ubyte", in: directory)
        let labelsURL = try find("\(prefix)-labels-idx1-ubyte", in: directory)
        let images = try IDX.read(imagesURL), labels = try IDX.read(labelsURL)
        guard images.shape.count == 3, images.shape[1] == side, images.shape[2] == side else {
            throw DataError("\(imagesURL.path): expected images of shape [N, 28, 28]; found \(images.shape)")
        }
        guard labels.shape.count == 1 else {
            throw DataError("\(labelsURL.path): expected labels of shape [N]; found \(labels.shape)")
        }
        guard images.shape[0] == labels.shape[0] else {
            throw DataError("\(imagesURL.lastPathComponent) holds \(images.shape[0]) images but "
                            + "\(labelsURL.path) \(labels.shape[0]) labels; the two files come from different "
                            + "downloads or one is damaged")
        }
        if let i = labels.bytes.firstIndex(where: { $0 >= 10 }) {
            throw DataError("\(labelsURL.path): label \(i) is \(labels.bytes[i]), outside 0..<10; the file is damaged")
        }
        return ImageSet(channels: 1, height: side, width: side, pixels: images.bytes,
                        labels: labels.bytes.map(Int.init), classes: 10, maxValue: 255)
    }

    static func find(_ file: String, in directory: URL) throws -> URL {
        let files = FileManager.default
        for candidate in [file, file + ".gz"] where files.fileExists(atPath: directory.appendingPathComponent(candidate).path) {
            return directory.appendingPathComponent(candidate)
        }
        let torchvision = ["FashionMNIST/raw", "MNIST/raw"]
            .filter { files.fileExists(atPath: directory.appendingPathComponent($0).path) }
        let hint = torchvision.isEmpty ? "" : " Found torchvision's \(torchvision[0])/ there: pass -data_dir "
            + directory.appendingPathComponent(torchvision[0]).path + "."
        throw DataError("\(directory.path) has neither \(file) nor \(file).gz. Expected the four IDX files "
                        + "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                        + "t10k-labels-idx1-ubyte (each raw or .gz), as Debian's dataset-fashion-mnist installs them "
                        + "in /usr/share/datasets/fashion-mnist.\(hint)")
    }
}
