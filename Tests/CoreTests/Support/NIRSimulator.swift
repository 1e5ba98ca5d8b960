@testable import Core

/// A plain simulator of an exported NIR graph, written from NIR's own
/// definitions (not from clif-mpi's layers): LIF by forward Euler at step dt,
/// `τ·dv/dt = (v_leak - v) + R·I`, fire on `v > v_threshold`, reset to
/// `v_reset`; a node with several inputs takes their sum. It holds the export
/// to what a NIR importer computes.
struct NIRSimulator {
    let graph: NIRGraph
    let dt: Float

    /// Runs `steps` steps of one image [C, H, W]: the output of every node at every step.
    func run(image: [Float], steps: Int) -> [[String: [Float]]] {
        var membrane: [String: [Float]] = [:]
        var history: [[String: [Float]]] = []
        for _ in 0..<steps {
            var values: [String: [Float]] = [:]
            var shapes: [String: [Int]] = [:]
            for (name, node) in graph.nodes {
                let inputs = graph.edges.filter { $0.to == name }.map { $0.from }
                var x: [Float] = []
                for input in inputs {
                    let v = values[input]!
                    x = x.isEmpty ? v : zip(x, v).map { $0 + $1 }
                }
                let shape = inputs.first.flatMap { shapes[$0] } ?? []
                switch node {
                case .input(let s):
                    values[name] = image; shapes[name] = s
                case .output:
                    values[name] = x; shapes[name] = shape
                case let .conv2d(weight, weightShape, bias, stride, padding, inputSize):
                    let (o, c, k) = (weightShape[0], weightShape[1], weightShape[2])
                    let (h, w) = (inputSize[0], inputSize[1])
                    let oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1
                    var y = [Float](repeating: 0, count: o * oh * ow)
                    for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
                        var sum = bias[oc]
                        for ic in 0..<c { for a in 0..<k { for b in 0..<k {
                            let row = i * stride + a - padding, col = j * stride + b - padding
                            guard row >= 0, row < h, col >= 0, col < w else { continue }
                            sum += weight[((oc * c + ic) * k + a) * k + b] * x[(ic * h + row) * w + col]
                        } } }
                        y[(oc * oh + i) * ow + j] = sum
                    } } }
                    values[name] = y; shapes[name] = [o, oh, ow]
                case .avgPool2d(let kernel):
                    let (c, h, w) = (shape[0], shape[1], shape[2])
                    let oh = h / kernel[0], ow = w / kernel[1]
                    var y = [Float](repeating: 0, count: c * oh * ow)
                    for ch in 0..<c { for i in 0..<oh { for j in 0..<ow {
                        var sum: Float = 0
                        for a in 0..<kernel[0] { for b in 0..<kernel[1] {
                            sum += x[(ch * h + i * kernel[0] + a) * w + j * kernel[1] + b]
                        } }
                        y[(ch * oh + i) * ow + j] = sum / Float(kernel[0] * kernel[1])
                    } } }
                    values[name] = y; shapes[name] = [c, oh, ow]
                case .flatten(let inputShape):
                    values[name] = x; shapes[name] = [inputShape.reduce(1, *)]
                case let .affine(weight, outFeatures, inFeatures, bias):
                    values[name] = (0..<outFeatures).map { o in
                        (0..<inFeatures).reduce(bias[o]) { $0 + weight[o * inFeatures + $1] * x[$1] }
                    }
                    shapes[name] = [outFeatures]
                case let .lif(p, s):
                    var v = membrane[name] ?? [Float](repeating: p.vReset, count: x.count)
                    var z = [Float](repeating: 0, count: x.count)
                    for i in v.indices {
                        v[i] += (dt / p.tau) * (p.vLeak - v[i] + p.r * x[i])
                        if v[i] > p.vThreshold { z[i] = 1; v[i] = p.vReset }
                    }
                    membrane[name] = v
                    values[name] = z; shapes[name] = s
                }
            }
            history.append(values)
        }
        return history
    }
}
