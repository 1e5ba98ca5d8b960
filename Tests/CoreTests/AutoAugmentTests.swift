import Foundation
import XCTest
@testable import Core

/// The AutoAugment-family ops against torchvision 0.28's `_apply_op` on PIL
/// images (fixture of tools/make_image_fixtures.py).
final class AutoAugmentTests: XCTestCase {
    func image(_ tensor: Tensor) -> PixelImage {
        PixelImage(channels: tensor.shape[0], height: tensor.shape[1], width: tensor.shape[2],
                   pixels: tensor.data.map { UInt8($0) })
    }

    /// Every op repeats Pillow's integer and float steps, so all match bit for bit
    /// (geometric ops included: the sample positions are the same doubles).
    func testOpsMatchTorchvision() throws {
        let fixture = try Fixture.load("images/augment_ops")
        let keys = fixture.metadata.keys.filter { $0.hasPrefix("magnitudes.") }.sorted()
        XCTAssertEqual(keys.count, 21)
        for key in keys {
            let parts = key.split(separator: ".")
            let op = try XCTUnwrap(AutoAugmentPolicy.Op(rawValue: String(parts[1])), key)
            let interpolation: Interpolation = parts[2] == "bilinear" ? .bilinear : .nearest
            let magnitudes = fixture.metadata[key]!.split(separator: ",").map { Double($0)! }
            for name in ["square", "narrow"] {
                let input = image(try fixture.required("\(name).input"))
                for (k, magnitude) in magnitudes.enumerated() {
                    let expected = try fixture.required("\(name).\(parts[1]).\(parts[2]).\(k)")
                    let out = AutoAugmentPolicy.apply(op, magnitude: magnitude, to: input, interpolation: interpolation)
                    let diffs = zip(out.pixels, expected.data).map { abs(Float($0) - $1) }
                    let largest = diffs.max() ?? .infinity, differing = diffs.filter { $0 > 0 }.count
                    let what = "\(name) \(op.rawValue) \(parts[2]) \(magnitude)"
                    print("max-diff augment \(what): \(largest) (\(differing) of \(diffs.count) values differ)")
                    XCTAssertEqual(largest, 0, "\(what): \(differing) values differ, by up to \(largest)")
                }
            }
        }
    }

    func testMagnitudeBinsAndPoliciesAreTorchvisions() throws {
        let fixture = try Fixture.load("images/augment_ops")
        XCTAssertEqual(AutoAugmentPolicy.trivialOps.map(\.rawValue).joined(separator: ","), fixture.metadata["trivial_ops"])
        let policies = AutoAugmentPolicy.imageNetPolicies.map { pair in
            "[" + pair.map { "[\"\($0.0.rawValue)\",\($0.1),\($0.2.map(String.init) ?? "null")]" }.joined(separator: ",") + "]"
        }
        XCTAssertEqual("[" + policies.joined(separator: ",") + "]", fixture.metadata["policies.imagenet"])
        for (policy, tag) in [(AutoAugmentPolicy.trivialAugmentWide, "wide"), (.imageNet, "imagenet")] {
            for op in AutoAugmentPolicy.Op.allCases {
                let stored = fixture.tensor("bins.\(tag).\(op.rawValue)")
                let ours = policy.magnitudes(op, height: 32, width: 32)
                if policy == .trivialAugmentWide && op == .invert { continue }  // not in TrivialAugmentWide
                XCTAssertEqual(ours?.bins, stored?.data, "\(tag) \(op.rawValue)")
            }
        }
    }
}
