import Foundation

/// The `-dataset` names clif-mpi reads.
public enum DatasetCatalog {
    public static let names = ["digits", "fashion_mnist", "mnist", "cifar10", "cifar100", "tiny_imagenet",
                               "synthetic", "dvsgesture", "DVSCIFAR10"]

    /// Where Debian's `dataset-fashion-mnist` package installs the IDX files.
    public static let debianFashionMNIST = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// Shape of `synthetic` data.
    public struct SyntheticShape: Sendable, Equatable {
        public var channels = 3, height = 32, width = 32, classes = 10, train = 512, test = 128
        public init(channels: Int = 3, height: Int = 32, width: Int = 32, classes: Int = 10, train: Int = 512, test: Int = 128) {
            self.channels = channels; self.height = height; self.width = width
            self.classes = classes; self.train = train; self.test = test
        }
    }

    /// Loads `name` from `dataDirectory` (the original's `-data_dir`). Event
    /// datasets become `frames` frames per sample (the run's `-T`) cut by
    /// `split`. `note` hears about long loads, a line of text at a time: an
    /// event dataset's frame cache being built, Tiny-ImageNet being decoded.
    public static func load(_ name: String, dataDirectory: URL, synthetic: SyntheticShape = .init(),
                            frames: Int = 6, split: FrameSplit = .number,
                            note: @escaping (String) -> Void = { _ in }) throws -> LoadedDataset {
        switch name {
        case "digits":
            let (train, test) = try Digits.load()
            return LoadedDataset(name: name, train: train, test: test, normalization: .digits,
                                 augmentation: Augmentation(cropPadding: 1))
        case "fashion_mnist", "mnist":
            // The Debian package's folder is the fallback for Fashion-MNIST.
            var directory = dataDirectory
            let own = ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"].contains {
                FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent($0).path)
            }
            if name == "fashion_mnist" && !own { directory = debianFashionMNIST }
            let train = try MNISTFamily.load(directory: directory, split: .train)
            let test = try MNISTFamily.load(directory: directory, split: .test)
            return LoadedDataset(name: name, train: train, test: test,
                                 normalization: name == "mnist" ? .mnist : .fashionMNIST,
                                 augmentation: Augmentation(cropPadding: 2, horizontalFlip: name == "fashion_mnist"))
        case "cifar10", "cifar100":
            let variant: CIFAR.Variant = name == "cifar10" ? .cifar10 : .cifar100
            return LoadedDataset(name: name,
                                 train: try CIFAR.load(directory: dataDirectory, variant: variant, split: .train),
                                 test: try CIFAR.load(directory: dataDirectory, variant: variant, split: .test),
                                 normalization: name == "cifar10" ? .cifar10 : .cifar100, augmentation: .cifar)
        case "tiny_imagenet":
            // RandomCrop(64) without padding is the identity on 64×64 images.
            func report(_ split: String) -> (Int, Int) -> Void {
                { done, total in note("decoding Tiny-ImageNet \(split): \(done)/\(total) images") }
            }
            let train = try TinyImageNet.load(directory: dataDirectory, split: .train, progress: report("train"))
            let test = try TinyImageNet.load(directory: dataDirectory, split: .test, progress: report("val"))
            return LoadedDataset(name: name, train: train, test: test, normalization: .tinyImageNet,
                                 augmentation: Augmentation(horizontalFlip: true))
        case "synthetic":
            return LoadedDataset(name: name, train: syntheticImages(synthetic, count: synthetic.train, seed: 1),
                                 test: syntheticImages(synthetic, count: synthetic.test, seed: 2),
                                 normalization: .identity(channels: synthetic.channels), augmentation: .none)
        case "dvsgesture":
            // 2×128×128 event counts, no normalisation or augmentation (as the original).
            return LoadedDataset(name: name,
                                 train: try DVSGesture.load(directory: dataDirectory, train: true, frames: frames, split: split, note: note),
                                 test: try DVSGesture.load(directory: dataDirectory, train: false, frames: frames, split: split, note: note),
                                 normalization: .identity(channels: 2), augmentation: .none)
        case "DVSCIFAR10":
            // 2×48×48 resized counts; train-time flip and rotation (docs/data.md).
            var augmentation = Augmentation(horizontalFlip: true)
            augmentation.rotationDegrees = 15
            return LoadedDataset(name: name,
                                 train: try CIFAR10DVS.load(directory: dataDirectory, train: true, frames: frames, split: split, note: note),
                                 test: try CIFAR10DVS.load(directory: dataDirectory, train: false, frames: frames, split: split, note: note),
                                 normalization: .identity(channels: 2), augmentation: augmentation)
        default:
            throw DataError("unknown -dataset \(name); expected one of: \(names.joined(separator: ", "))")
        }
    }

    /// Random bytes and labels: for benchmarks and tests, not for learning.
    static func syntheticImages(_ shape: SyntheticShape, count: Int, seed: UInt64) -> ImageSet {
        var stream = RandomStream(seed: seed, 0x5EED)
        let size = shape.channels * shape.height * shape.width
        return ImageSet(channels: shape.channels, height: shape.height, width: shape.width,
                        pixels: (0..<(count * size)).map { _ in UInt8(truncatingIfNeeded: stream.next()) },
                        labels: (0..<count).map { _ in stream.integer(below: shape.classes) },
                        classes: shape.classes, maxValue: 255)
    }
}
