/// The original's `-cutupmix_auto` flag, per dataset (its train.py):
/// - cifar10, cifar100: per sample HFlip → TrivialAugmentWide (bilinear) →
///   normalise → RandomErasing(0.1); per batch Mixup(α 0.2) or CutMix(α 1)
///   with equal odds and soft labels; the incomplete last batch is dropped.
/// - tiny_imagenet: AutoAugment (ImageNet policy, nearest) appended to the
///   usual crop and flip; no mixing, every batch kept.
public enum CutupmixAuto {
    public static let datasets = ["cifar10", "cifar100", "tiny_imagenet"]

    public struct Recipe: Sendable, Equatable {
        public let augmentation: Augmentation
        public let mixing: BatchMixing?
        public let dropLastBatch: Bool
    }

    /// nil for datasets the original has no such recipe for.
    public static func recipe(for dataset: String) -> Recipe? {
        switch dataset {
        case "cifar10", "cifar100":
            return Recipe(augmentation: .cifarTrivialAugment, mixing: BatchMixing(mixupAlpha: 0.2, cutmixAlpha: 1.0),
                          dropLastBatch: true)
        case "tiny_imagenet":
            return Recipe(augmentation: Augmentation(horizontalFlip: true, policy: .imageNet), mixing: nil, dropLastBatch: false)
        default:
            return nil
        }
    }
}
