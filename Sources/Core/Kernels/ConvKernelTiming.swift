// Legend as in ConvInputGradient.swift: C input channels, O output channels,
// H×W input, S stride; B images of one reduction chunk.
import Foundation

/// `bench --conv-kernels`: the three products of a convolution for one
/// chunk (B images, a sample's T time steps), event-driven against the dense
/// im2col + GEMM path, on this thread, on the 3×3 convolutions of
/// spiking_resnet18 at 32×32. The input holds spikes (1 with probability
/// `density`, else 0) and the open-window flags are set with the same
/// probability, independently. GFLOP/s count 2 × the multiply-adds a kernel
/// does: the dense ones every product, the event ones a product per event
/// (forward, weight gradient) or per open value (input gradient) and per
/// kernel offset that reads it — so the event figures say how close each
/// sparse kernel runs to the dense one's rate, the times what it saves.
public enum ConvKernelTiming {
    /// A 3×3 convolution with padding 1.
    public struct Shape: Sendable {
        public let channels: Int, outChannels: Int, size: Int, stride: Int

        public init(channels: Int, outChannels: Int, size: Int, stride: Int) {
            self.channels = channels; self.outChannels = outChannels; self.size = size; self.stride = stride
        }

        var geometry: ConvGeometry {
            ConvGeometry(channels: channels, height: size, width: size, kernel: 3, stride: stride, padding: 1)
        }
    }

    /// The 3×3 convolutions of spiking_resnet18 on 3×32×32 inputs after the stem.
    public static let resnet18Shapes = [(64, 64, 32, 1), (64, 128, 32, 2), (128, 128, 16, 1), (128, 256, 16, 2),
                                        (256, 256, 8, 1), (256, 512, 8, 2), (512, 512, 4, 1)]
        .map { Shape(channels: $0.0, outChannels: $0.1, size: $0.2, stride: $0.3) }

    /// The multiply-adds of an event kernel over `images` input images
    /// [C, H, W]: O for every selected value (`selected(index)`) and every
    /// kernel offset that takes it to an output pixel.
    static func multiplyAdds(images: Int, outChannels o: Int, geometry g: ConvGeometry, _ selected: (Int) -> Bool) -> Int {
        let reads = PixelReads(g, outChannels: o), inImage = g.channels * g.inPixels
        return (0..<(images * inImage)).reduce(0) { total, index in
            selected(index) ? total + reads.reads(of: index % g.inPixels).count * o : total
        }
    }

    /// Best of `repeats` runs of `body`, in seconds.
    private static func best(_ repeats: Int, _ body: () -> Void) -> Double {
        (0..<repeats).reduce(Double.infinity) { fastest, _ in
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
    }

    /// Says one line per shape, once it is timed: forward, weight gradient
    /// and input gradient, each event-driven vs dense (ms, GFLOP/s), and
    /// the time to collect the input's events.
    public static func timeShapes(_ shapes: [Shape] = resnet18Shapes, images: Int, density: Float, repeats: Int = 5,
                                  say: (String) -> Void) {
        precondition(images > 0 && (0...1).contains(density) && repeats > 0,
                     "ConvKernelTiming: \(images) images, density \(density), \(repeats) repeats")
        for shape in shapes {
            let g = shape.geometry, o = shape.outChannels
            let inImage = g.channels * g.inPixels, outImage = o * g.outPixels, columns = images * g.outPixels
            var stream = RandomStream(seed: UInt64(shape.channels * 131 + shape.size), name: "conv kernel timing")
            let input = (0..<(images * inImage)).map { _ in Float(stream.uniform() < density ? 1 : 0) }
            let open = (0..<(images * inImage)).map { _ in UInt8(stream.uniform() < density ? 1 : 0) }
            let weight = (0..<(o * g.patch)).map { _ in 0.1 * stream.normal() }
            let gradOut = (0..<(o * columns)).map { _ in stream.normal() }
            var weightT = [Float](repeating: 0, count: weight.count)
            EventConv.offsetMajor(&weightT, weight, outChannels: o, channels: g.channels, offsets: 9)
            let output = ScratchBuffer(count: images * outImage), dx = ScratchBuffer(count: images * inImage)
            let gradWeightT = ScratchBuffer(count: weight.count)
            let eventProducts = multiplyAdds(images: images, outChannels: o, geometry: g) { input[$0] != 0 }
            let openProducts = multiplyAdds(images: images, outChannels: o, geometry: g) { open[$0] != 0 }
            let denseProducts = images * g.outPixels * o * g.patch
            func rate(_ products: Int, _ seconds: Double) -> String {
                String(format: "%7.3f ms %5.1f GFLOP/s", seconds * 1e3, 2 * Double(products) / seconds / 1e9)
            }
            input.withUnsafeBufferPointer { x in
                let inputs = (0..<images).map { x.baseAddress! + $0 * inImage }
                let outputs = (0..<images).map { output.pointer + $0 * outImage }
                let dxImages = (0..<images).map { dx.pointer + $0 * inImage }
                var events = InputEvents(images: inputs, channels: g.channels, height: g.height, width: g.width)
                let collect = best(repeats) { events = InputEvents(images: inputs, channels: g.channels, height: g.height, width: g.width) }
                let forwardEvents = best(repeats) {
                    ConvForward.events(outputs: outputs, events: events, weightT: weightT, bias: nil, outChannels: o, geometry: g)
                }
                let forwardDense = best(repeats) {
                    ConvForward.gemm(outputs: outputs, inputs: inputs, weight: weight, bias: nil, outChannels: o, geometry: g)
                }
                let weightEvents = best(repeats) {
                    ConvWeightGradient.events(gradWeightT: gradWeightT.pointer, events: events, gradOut: gradOut, ld: columns,
                                              outChannels: o, geometry: g)
                }
                let weightDense = best(repeats) {
                    ConvWeightGradient.gemm(gradWeightT: gradWeightT.pointer, inputs: inputs, gradOut: gradOut, ld: columns,
                                            outChannels: o, geometry: g)
                }
                let inputGated = open.withUnsafeBufferPointer { flags in
                    best(repeats) {
                        ConvInputGradient.gated(images: dxImages, flags: (0..<images).map { flags.baseAddress! + $0 * inImage },
                                                gradOut: gradOut, ld: columns, weightT: weightT, outChannels: o, geometry: g)
                    }
                }
                let inputDense = best(repeats) {
                    ConvInputGradient.dense(images: dxImages, gradOut: gradOut, ld: columns, weight: weight, outChannels: o, geometry: g)
                }
                say(String(format: "c%d→o%d %d² s%d:", g.channels, o, g.height, g.stride)
                    + "  forward events \(rate(eventProducts, forwardEvents)) | dense \(rate(denseProducts, forwardDense))"
                    + "  weight gradient events \(rate(eventProducts, weightEvents)) | dense \(rate(denseProducts, weightDense))"
                    + "  input gradient gated \(rate(openProducts, inputGated)) | dense \(rate(denseProducts, inputDense))"
                    + String(format: "  events collected %.3f ms", collect * 1e3))
            }
        }
    }
}
