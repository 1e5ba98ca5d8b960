import XCTest
@testable import Core

/// Per-step frames `[T, N, C, H, W]` through the networks: the input layer
/// computes every step (no static-input shortcut), with the same result as
/// the shortcut when the frames happen to repeat.
final class FrameInputTests: XCTestCase {
    func step(_ network: Network, _ input: Tensor, staticInput: Bool) -> (loss: Float, logits: Tensor, gradients: [Float]) {
        let context = StepContext(layout: .whole(batch: 3, chunkSize: 2), reducer: LocalReducer(), training: true,
                                  timeSteps: 3, staticInput: staticInput)
        let r = TrainingStep.gradients(network, input: input, targets: .labels([0, 2, 1]), loss: LossConfig(), context: context)
        return (r.loss, r.logits, network.parameters.gradients)
    }

    func testRepeatedFramesMatchTheStaticShortcutAndChangingFramesMatter() throws {
        for model in ["vggsnn", "spiking_vgg11_bn"] {
            let network = try ModelFactory.make(ModelSpec(name: model, inChannels: 2, classes: 4, height: 32, width: 32,
                                                          activation: Activation(name: "CLIF")!, widthDivisor: 16))
            let image = randomTensor([3, 2, 32, 32], seed: 5, scale: 2, shift: 0.5)
            let repeated = image.repeatedOverTime(3)
            let shortcut = step(network, repeated, staticInput: true)
            let perStep = step(network, repeated, staticInput: false)
            XCTAssertEqual(perStep.loss, shortcut.loss, accuracy: 1e-5 * abs(shortcut.loss), model)
            assertClose(perStep.logits, shortcut.logits, tolerance: 1e-5, "frames: \(model) logits")
            assertClose(Tensor(shape: [perStep.gradients.count], data: perStep.gradients),
                        Tensor(shape: [shortcut.gradients.count], data: shortcut.gradients), tolerance: 1e-4,
                        "frames: \(model) gradients")
            // A different last frame changes the last step's output.
            var moving = repeated
            for i in (2 * 3 * 2 * 32 * 32)..<moving.count { moving.data[i] = 0 }
            let changed = step(network, moving, staticInput: false)
            XCTAssertNotEqual(Array(changed.logits.data[(2 * 3 * 4)...]), Array(shortcut.logits.data[(2 * 3 * 4)...]), model)
        }
    }
}
