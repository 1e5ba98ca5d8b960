import Foundation

/// A dataset ready to train on: both splits in memory and how to prepare them.
public struct LoadedDataset: Sendable {
    public init(name: String, train: any SampleSet, test: any SampleSet, normalization: Normalization, augmentation: Augmentation) {
        self.name = name; self.train = train; self.test = test
        self.normalization = normalization; self.augmentation = augmentation
    }

    public let name: String
    public let train: any SampleSet
    public let test: any SampleSet
    public let normalization: Normalization
    /// The train-time augmentation the original uses for this dataset.
    public let augmentation: Augmentation

    public var classes: Int { train.classes }
    public var channels: Int { train.channels }
    public var height: Int { train.height }
    public var width: Int { train.width }
    /// Frames per sample of event data (the time steps it fixes); nil for static images.
    public var framesPerSample: Int? { train.framesPerSample }
}
