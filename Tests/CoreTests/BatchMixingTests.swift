import Foundation
import XCTest
@testable import Core

/// Mixup / CutMix per batch, RandomErasing, and the `-cutupmix_auto` transform.
final class BatchMixingTests: XCTestCase {
    let mixing = BatchMixing()

    /// Two distinct constant images per sample so every output value tells where it came from.
    func images(_ n: Int, c: Int = 3, h: Int = 8, w: Int = 10) -> Tensor {
        var t = Tensor(zeros: [n, c, h, w])
        for s in 0..<n { for i in 0..<(c * h * w) { t.data[s * c * h * w + i] = Float(s + 1) } }
        return t
    }

    func testBothKindsAreDrawnWithTheirLambdas() {
        var mixups: [Double] = [], cutmixes = 0
        for batch in 0..<400 {
            let draw = mixing.draw(seed: 2022, epoch: 3, batch: batch, height: 8, width: 10)
            XCTAssertEqual(draw, mixing.draw(seed: 2022, epoch: 3, batch: batch, height: 8, width: 10), "a pure function")
            switch draw {
            case .mixup(let lambda):
                XCTAssert((0...1).contains(lambda))
                mixups.append(lambda)
            case .cutmix(let top, let left, let bottom, let right, let lambda):
                cutmixes += 1
                XCTAssert(0 <= top && top <= bottom && bottom <= 8 && 0 <= left && left <= right && right <= 10)
                XCTAssertEqual(lambda, 1 - Double((bottom - top) * (right - left)) / 80, accuracy: 1e-12)
            }
        }
        // Equal odds; Beta(0.2, 0.2) piles up near 0 and 1 (mean 1/2, variance 0.208).
        XCTAssertEqual(Double(cutmixes) / 400, 0.5, accuracy: 0.08)
        let mean = mixups.reduce(0, +) / Double(mixups.count)
        let variance = mixups.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(mixups.count)
        XCTAssertEqual(mean, 0.5, accuracy: 0.08)
        XCTAssertEqual(variance, 0.5 * 0.5 / (2 * 0.2 + 1), accuracy: 0.04)
        XCTAssertGreaterThan(Double(mixups.filter { $0 < 0.05 || $0 > 0.95 }.count) / Double(mixups.count), 0.3)
    }

    func testMixupBlendsWithThePreviousSample() {
        let out = BatchMixing.apply(.mixup(lambda: 0.25), images: images(4), labels: [1, 2, 2, 0], classes: 3)
        XCTAssertEqual(out.images.shape, [3, 3, 8, 10])
        // Sample j is input j + 1 (value j + 2) mixed with input j (value j + 1).
        for j in 0..<3 { XCTAssertEqual(out.images.data[j * 240 + 17], Float(j + 2) * 0.25 + Float(j + 1) * 0.75) }
        XCTAssertEqual(out.softTargets, [0, 0.75, 0.25, /**/ 0, 0, 1, /**/ 0.25, 0, 0.75])
        XCTAssertEqual(out.labels, [1, 2, 2], "the class each soft target favours")
    }

    func testCutMixAreaMatchesTheSoftLabels() {
        let draw = BatchMixing.Draw.cutmix(top: 2, left: 3, bottom: 6, right: 8, lambda: 1 - 20.0 / 80)
        let out = BatchMixing.apply(draw, images: images(3), labels: [4, 1, 0], classes: 5)
        for j in 0..<2 {
            let sample = Array(out.images.data[(j * 240)..<((j + 1) * 240)])
            let fromPartner = sample.filter { $0 == Float(j + 1) }.count
            XCTAssertEqual(fromPartner, 3 * 20, "the box holds the partner's pixels in every channel")
            XCTAssertEqual(sample[(1 * 8 + 2) * 10 + 3], Float(j + 1))   // inside the box
            XCTAssertEqual(sample[(1 * 8 + 6) * 10 + 3], Float(j + 2))   // below it
            let soft = Array(out.softTargets![(j * 5)..<((j + 1) * 5)])
            XCTAssertEqual(soft.reduce(0, +), 1, accuracy: 1e-6)
            XCTAssertEqual(Double(1 - soft.max()!), min(Double(fromPartner) / 240, 1 - Double(fromPartner) / 240), accuracy: 1e-6)
        }
        XCTAssertEqual(out.softTargets![0 * 5 + 1], 0.75)
        XCTAssertEqual(out.softTargets![0 * 5 + 4], 0.25)
    }

    /// Soft labels of drawn batches always sum to 1 and weigh the two labels by the mixed area.
    func testDrawnSoftLabelsSumToOne() {
        let set = DatasetCatalog.syntheticImages(.init(channels: 3, height: 8, width: 10, classes: 7, train: 40), count: 40, seed: 5)
        let source = BatchSource(set: set, batchSize: 10, normalization: .identity(channels: 3),
                                 augmentation: .cifarTrivialAugment, shuffle: true, seed: 9, dropLast: true)
        for batch in 0..<4 {
            let order = source.order(epoch: 1)
            let b = source.prepareMixed(source.indices(of: batch, in: order), local: 0..<10, epoch: 1, batch: batch, mixing: mixing)
            for j in 0..<10 {
                let row = b.softTargets![(j * 7)..<((j + 1) * 7)]
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-6)
                XCTAssertEqual(row.filter { $0 > 0 }.count <= 2, true)
            }
        }
    }

    /// Any split of a global batch over processes gives the rows of the whole batch.
    func testShardsEqualTheWholeBatch() {
        let set = DatasetCatalog.syntheticImages(.init(channels: 3, height: 12, width: 12, classes: 5, train: 30), count: 30, seed: 1)
        let source = BatchSource(set: set, batchSize: 9, normalization: .cifar10, augmentation: .cifarTrivialAugment,
                                 shuffle: true, seed: 4, dropLast: true)
        XCTAssertEqual(source.batchCount, 3)
        let order = source.order(epoch: 2)
        for batch in 0..<source.batchCount {
            let global = source.indices(of: batch, in: order)
            let whole = source.prepareMixed(global, local: 0..<9, epoch: 2, batch: batch, mixing: mixing)
            for cut in [[0..<3, 3..<9], [0..<1, 1..<5, 5..<9], [0..<8, 8..<9]] {
                var images: [Float] = [], soft: [Float] = [], labels: [Int] = []
                for part in cut {
                    let b = source.prepareMixed(global, local: part, epoch: 2, batch: batch, mixing: mixing)
                    images += b.images.data; soft += b.softTargets!; labels += b.labels
                }
                XCTAssertEqual(images, whole.images.data, "batch \(batch) split \(cut)")
                XCTAssertEqual(soft, whole.softTargets!)
                XCTAssertEqual(labels, whole.labels)
            }
            XCTAssertEqual(source.prepareMixed(global, local: 4..<4, epoch: 2, batch: batch, mixing: mixing).labels, [])
        }
    }

    func testRandomErasingFollowsTorchvisionsBounds() {
        var erased = 0
        for index in 0..<2000 {
            var image = [Float](repeating: 1, count: 3 * 32 * 32)
            var stream = RandomStream(seed: 7, UInt64(index))
            image.withUnsafeMutableBufferPointer {
                ImageTransform.randomErasing($0.baseAddress!, channels: 3, height: 32, width: 32, probability: 0.1, stream: &stream)
            }
            let zeros = image.filter { $0 == 0 }.count
            guard zeros > 0 else { continue }
            erased += 1
            XCTAssertEqual(zeros % 3, 0, "every channel erased alike")
            let area = Double(zeros / 3) / 1024
            XCTAssert(area > 0.01 && area < 0.36, "area fraction \(area) outside scale (0.02, 0.33) with rounding")
        }
        XCTAssertEqual(Double(erased) / 2000, 0.1, accuracy: 0.025)
    }

    func testAutomaticPolicyTransformIsDeterministicAndNormalised() {
        let set = DatasetCatalog.syntheticImages(.init(channels: 3, height: 32, width: 32, classes: 10, train: 8), count: 8, seed: 3)
        var first = [Float](repeating: 0, count: 3072), second = first, plain = first
        for (augmentation, buffer) in [(Augmentation.cifarTrivialAugment, 0), (.cifarTrivialAugment, 1), (.none, 2)] {
            var stream = RandomStream(seed: 2022, name: "augment", 0, 5)
            var out = [Float](repeating: 0, count: 3072)
            out.withUnsafeMutableBufferPointer {
                ImageTransform.prepare(set, index: 5, augmentation: augmentation, normalization: .cifar10,
                                       stream: &stream, into: $0.baseAddress!)
            }
            if buffer == 0 { first = out } else if buffer == 1 { second = out } else { plain = out }
        }
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, plain)
        // Values stay on the normalised 8-bit grid: (v/255 − mean)/std for an integer v (or 0 where erased).
        let mean = Normalization.cifar10.mean[0], std = Normalization.cifar10.std[0]
        for value in first[0..<1024] where value != 0 {
            let v = (value * std + mean) * 255
            XCTAssertEqual(v, v.rounded(), accuracy: 1e-3)
        }
    }
}
