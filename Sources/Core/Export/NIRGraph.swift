// A NIR (Neuromorphic Intermediate Representation) graph and its HDF5 file.
// Shapes exclude the batch dimension, as in NIR: [C, H, W] or [F].

/// A failure to express a network in NIR, naming the layer and why.
public struct NIRExportError: Error, CustomStringConvertible {
    public let description: String
}

/// A directed graph of NIR nodes. A node with several incoming edges receives
/// the sum of their outputs (a residual addition).
public struct NIRGraph {
    /// LIF parameters, the same for every neuron of a layer (NIR stores them
    /// as arrays of the layer's shape).
    public struct LIFParameters: Equatable {
        public var tau: Float, r: Float, vLeak: Float, vThreshold: Float, vReset: Float
    }

    public enum Node {
        case input(shape: [Int])
        case output(shape: [Int])
        /// `weight` [O, C, K, K], `bias` [O]; `inputSize` is the input's (H, W).
        case conv2d(weight: [Float], weightShape: [Int], bias: [Float], stride: Int, padding: Int, inputSize: [Int])
        /// Mean over k×k windows with stride k, no padding.
        case avgPool2d(kernel: [Int])
        /// All dimensions of `inputShape` into one.
        case flatten(inputShape: [Int])
        /// `y = W·x + b`, `weight` [out, in].
        case affine(weight: [Float], outFeatures: Int, inFeatures: Int, bias: [Float])
        /// Leaky integrate-and-fire neurons of `shape`.
        case lif(LIFParameters, shape: [Int])

        /// The `type` string NIR's reader dispatches on.
        public var typeName: String {
            switch self {
            case .input: return "Input"
            case .output: return "Output"
            case .conv2d: return "Conv2d"
            case .avgPool2d: return "AvgPool2d"
            case .flatten: return "Flatten"
            case .affine: return "Affine"
            case .lif: return "LIF"
            }
        }
    }

    public private(set) var nodes: [(name: String, node: Node)] = []
    public private(set) var edges: [(from: String, to: String)] = []
    private var index: [String: Int] = [:]

    public init() {}

    public func node(_ name: String) -> Node? { index[name].map { nodes[$0].node } }

    mutating func add(_ name: String, _ node: Node, inputs: [String]) {
        precondition(index[name] == nil, "NIRGraph: node \(name) added twice")
        precondition(inputs.allSatisfy { index[$0] != nil }, "NIRGraph: \(name) takes inputs \(inputs) not all in the graph")
        index[name] = nodes.count
        nodes.append((name, node))
        edges += inputs.map { ($0, name) }
    }

    mutating func replace(_ name: String, with node: Node) {
        guard let i = index[name] else { preconditionFailure("NIRGraph: no node \(name)") }
        nodes[i].node = node
    }

    /// Writes the graph as `nir.write` lays it out: `version`, and the group
    /// `node` with `type` = "NIRGraph", `nodes/<name>/…` and `edges` [E, 2].
    public func write(to path: String) throws {
        let file = try HDF5Writer(path: path)
        try file.strings("version", ["1.0"], shape: [])
        try file.group("node")
        try file.strings("node/type", ["NIRGraph"], shape: [])
        try file.group("node/nodes")
        for (name, node) in nodes {
            let group = "node/nodes/\(name)"
            try file.group(group)
            try file.strings("\(group)/type", [node.typeName], shape: [])
            try write(node, into: group, file)
        }
        try file.strings("node/edges", edges.flatMap { [$0.from, $0.to] }, shape: [edges.count, 2])
        try file.close()
    }

    private func write(_ node: Node, into group: String, _ file: HDF5Writer) throws {
        switch node {
        case .input(let shape), .output(let shape):
            try file.integers("\(group)/shape", shape, shape: [shape.count])
        case let .conv2d(weight, weightShape, bias, stride, padding, inputSize):
            try file.floats("\(group)/weight", weight, shape: weightShape)
            try file.floats("\(group)/bias", bias, shape: [bias.count])
            try file.integers("\(group)/stride", [stride, stride], shape: [2])
            try file.integers("\(group)/padding", [padding, padding], shape: [2])
            try file.integers("\(group)/dilation", [1, 1], shape: [2])
            try file.integers("\(group)/groups", [1], shape: [])
            try file.integers("\(group)/input_shape", inputSize, shape: [2])
        case .avgPool2d(let kernel):
            try file.integers("\(group)/kernel_size", kernel, shape: [2])
            try file.integers("\(group)/stride", kernel, shape: [2])
            try file.integers("\(group)/padding", [0, 0], shape: [2])
        case .flatten(let inputShape):
            try file.integers("\(group)/input_type", inputShape, shape: [inputShape.count])
            try file.integers("\(group)/start_dim", [0], shape: [])
            try file.integers("\(group)/end_dim", [-1], shape: [])
        case let .affine(weight, outFeatures, inFeatures, bias):
            try file.floats("\(group)/weight", weight, shape: [outFeatures, inFeatures])
            try file.floats("\(group)/bias", bias, shape: [outFeatures])
        case let .lif(p, shape):
            let count = shape.reduce(1, *)
            for (field, value) in [("tau", p.tau), ("r", p.r), ("v_leak", p.vLeak),
                                   ("v_threshold", p.vThreshold), ("v_reset", p.vReset)] {
                try file.floats("\(group)/\(field)", [Float](repeating: value, count: count), shape: shape)
            }
        }
    }
}
