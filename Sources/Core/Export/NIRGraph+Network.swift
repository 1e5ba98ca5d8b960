// A trained network as a NIR graph: the inference network, with BatchNorm
// folded into the convolutions and clif-mpi's discrete LIF written as NIR's
// continuous LIF.
//
// The neuron mapping, for one layer with decay k (1/τ; σ(w) for PLIF),
// threshold θ and hard reset v_r:
//   clif-mpi, per step:  h_t = v_{t-1} - k·(v_{t-1} - v_r) + x_t;  s_t = H(h_t - θ), H(0) = 1;
//                        v_t = v_r if s_t else h_t
//   NIR LIF:             τ_N·dv/dt = (v_leak - v) + R·I;  z = v > v_threshold;  v ← v_reset on z.
//   Forward Euler with step dt (as snnTorch and Norse import it):
//                        v_t = v_{t-1} + (dt/τ_N)·(v_leak - v_{t-1} + R·I_t)
//   They agree term by term with I_t = x_t and
//     (1) τ_N = dt / k          (the leak dt/τ_N is k)
//     (2) R = 1 / k             (the input gain R·dt/τ_N is 1)
//     (3) v_leak = v_r          (clif-mpi's hard reset leaks towards v_r)
//     (4) v_reset = v_r
//     (5) v_threshold = the largest Float below θ: NIR fires on v > v_threshold, clif-mpi on
//         h ≥ θ, and for Float v, v > θ⁻ exactly when v ≥ θ.
//   The static image is the input at every step, as in clif-mpi.
// Not expressible, refused naming the layer: the soft reset v_t = h_t - s_t·θ (NIR's LIF has
// only a reset to v_reset), CLIF's memory m and its reset term s_t·σ(m_t), ReLU.
//
// Folding. Eval-mode BatchNorm is y = x·a_c + b_c per channel. Into the convolutions whose sum it
// normalises: W' = a_c·W, bias' = a_c·bias (+ b_c once); a summand that is not a convolution (a
// residual block's identity shortcut) gets a 1×1 convolution of diagonal weight a_c. An adaptive average pool that
// up-samples (VGG's AdaptiveAvgPool2d(7) on a 1×1 map) is a linear map P folded into the next
// Linear layer: W' = W·P.

extension NIRGraph {
    /// The NIR graph of `network` for inputs of `inputShape` [C, H, W].
    ///
    /// - Parameter dt: the time step the LIF time constants are written for (NIR is
    ///   continuous-time; an importer must simulate with the same dt). snnTorch's importer
    ///   assumes 1e-4.
    /// - Throws: `NIRExportError` naming the first layer NIR cannot express.
    public static func export(_ network: Network, inputShape: [Int], dt: Float = 1e-4) throws -> NIRGraph {
        guard let sequential = network as? SequentialNetwork else {
            throw NIRExportError(description: "\(type(of: network)) is not a layer sequence NIR export can walk")
        }
        var builder = NIRBuilder(network: network, dt: dt, shape: inputShape)
        builder.graph.add("input", .input(shape: inputShape), inputs: [])
        builder.sources = ["input"]
        try builder.walk(sequential.body)
        guard builder.pendingPool == nil else {
            throw NIRExportError(description: "\(builder.pendingPoolName): an up-sampling adaptive average pool must be followed by flatten and a Linear layer to be folded")
        }
        builder.graph.add("output", .output(shape: builder.shape), inputs: builder.sources)
        return builder.graph
    }
}

/// The walk over the layers: the graph so far, and the nodes whose summed
/// outputs are the current value, of `shape`.
struct NIRBuilder {
    let network: Network
    let dt: Float
    var graph = NIRGraph()
    var sources: [String] = []
    var shape: [Int]
    /// Input windows of an adaptive pool not yet folded, per output row and column.
    var pendingPool: (rows: [Range<Int>], columns: [Range<Int>], height: Int, width: Int)?
    var pendingPoolName = ""
    private var poolCount = 0

    init(network: Network, dt: Float, shape: [Int]) {
        self.network = network
        self.dt = dt
        self.shape = shape
    }

    private var parameters: [Float] { network.parameters.values }

    mutating func walk(_ layer: Layer) throws {
        if pendingPool != nil, !(layer is Flatten || layer is Linear || layer is Dropout) {
            throw NIRExportError(description: "\(pendingPoolName): an up-sampling adaptive average pool followed by \(type(of: layer)) cannot be folded into a Linear layer")
        }
        switch layer {
        case let sequence as Sequential:
            for inner in sequence.layers { try walk(inner) }
        case let block as PreActivationBlock:
            try walk(block.preActivation)
            let (activated, activatedShape) = (sources, shape)
            try walk(block.residual)
            let residual = sources
            (sources, shape) = (activated, activatedShape)
            if let shortcut = block.shortcut { try walk(shortcut) }
            sources = residual + sources
        case let conv as Conv2d: try add(conv)
        case let norm as BatchNorm2d: try fold(norm)
        case let neuron as SpikingNeuron: try add(neuron)
        case let pool as AveragePool: try add(pool)
        case let linear as Linear: try add(linear)
        case is Flatten:
            let name = "flatten"
            graph.add(name, .flatten(inputShape: shape), inputs: sources)
            sources = [name]
            shape = [shape.reduce(1, *)]
        case is Dropout:
            break  // the identity at inference
        case is ReLU:
            throw NIRExportError(description: "a ReLU layer: NIR export takes spiking networks (train with -neuron CLIF, LIF or PLIF)")
        default:
            throw NIRExportError(description: "a \(type(of: layer)) layer: NIR export has no mapping for it")
        }
    }

    private static func moduleName(_ entry: StoreEntry) -> String {
        String(entry.name.dropLast(".weight".count))
    }

    private mutating func add(_ conv: Conv2d) throws {
        let name = Self.moduleName(conv.weight)
        guard shape.count == 3, shape[0] == conv.inChannels else {
            throw NIRExportError(description: "layer \(name): expects \(conv.inChannels) input channels, the graph carries \(shape)")
        }
        let bias = conv.bias.map { Array(parameters[$0.range]) } ?? [Float](repeating: 0, count: conv.outChannels)
        let size = Array(shape[1...2])
        graph.add(name, .conv2d(weight: Array(parameters[conv.weight.range]), weightShape: conv.weight.shape, bias: bias,
                                stride: conv.stride, padding: conv.padding, inputSize: size), inputs: sources)
        sources = [name]
        shape = [conv.outChannels] + size.map { ($0 + 2 * conv.padding - conv.kernel) / conv.stride + 1 }
    }

    private mutating func fold(_ norm: BatchNorm2d) throws {
        let name = Self.moduleName(norm.weight)
        let (scale, shift) = norm.evaluationAffine()
        var shifted = false
        var folded: [String] = []
        for source in sources {
            if case let .conv2d(weight, weightShape, bias, stride, padding, inputSize) = graph.node(source) {
                let perChannel = weight.count / scale.count
                let w = weight.indices.map { weight[$0] * scale[$0 / perChannel] }
                var b = bias.indices.map { bias[$0] * scale[$0] }
                if !shifted { b = b.indices.map { b[$0] + shift[$0] }; shifted = true }
                graph.replace(source, with: .conv2d(weight: w, weightShape: weightShape, bias: b, stride: stride,
                                                    padding: padding, inputSize: inputSize))
                folded.append(source)
            } else {
                // The identity shortcut: a 1×1 convolution of diagonal weight a_c rather than NIR's Scale
                // node, which snnTorch's importer (1.0) has no mapping for; every importer maps Conv2d.
                let scaled = "\(name).identity"
                let channels = scale.count
                var w = [Float](repeating: 0, count: channels * channels)
                for c in 0..<channels { w[c * channels + c] = scale[c] }
                graph.add(scaled, .conv2d(weight: w, weightShape: [channels, channels, 1, 1],
                                          bias: [Float](repeating: 0, count: channels), stride: 1, padding: 0,
                                          inputSize: Array(shape[1...2])), inputs: [source])
                folded.append(scaled)
            }
        }
        guard shifted else {
            throw NIRExportError(description: "layer \(name): BatchNorm2d after a layer other than a convolution has a per-channel shift NIR has no node for")
        }
        sources = folded
    }

    private mutating func add(_ neuron: SpikingNeuron) throws {
        let name = network.neurons.first { $0.layer === neuron }?.name ?? "neuron"
        let config = neuron.config
        guard config.model != .clif else {
            throw NIRExportError(description: "layer \(name): CLIF's complementary memory m and its reset term s·sigmoid(m) have no NIR node; export the LIF conversion (-neuron LIF)")
        }
        guard let reset = config.vReset else {
            throw NIRExportError(description: "layer \(name): the soft reset (v ← v - threshold after a spike) has no NIR field — NIR's LIF resets to v_reset; export a hard reset (--v-reset 0)")
        }
        let k = neuron.decay
        let parameters = NIRGraph.LIFParameters(tau: dt / k, r: 1 / k, vLeak: reset,
                                                vThreshold: config.vThreshold.nextDown, vReset: reset)
        graph.add(name, .lif(parameters, shape: shape), inputs: sources)
        sources = [name]
    }

    private mutating func add(_ pool: AveragePool) throws {
        poolCount += 1
        let name = "pool\(poolCount)"
        guard shape.count == 3 else { throw NIRExportError(description: "\(name): pooling a \(shape) value") }
        let rows = pool.windows(size: shape[1]), columns = pool.windows(size: shape[2])
        if let kh = Self.uniformKernel(rows, shape[1]), let kw = Self.uniformKernel(columns, shape[2]) {
            graph.add(name, .avgPool2d(kernel: [kh, kw]), inputs: sources)
            sources = [name]
            shape = [shape[0], rows.count, columns.count]
        } else {
            pendingPool = (rows, columns, shape[1], shape[2])
            pendingPoolName = "\(name) (adaptive average pool to \(rows.count)×\(columns.count) of a \(shape[1])×\(shape[2]) map)"
        }
    }

    /// The kernel k when `windows` are k-wide, non-overlapping and start at 0 (stride k, floor).
    private static func uniformKernel(_ windows: [Range<Int>], _ size: Int) -> Int? {
        guard let k = windows.first?.count, k > 0 else { return nil }
        return windows.enumerated().allSatisfy { $1 == ($0 * k)..<($0 * k + k) } ? k : nil
    }

    private mutating func add(_ linear: Linear) throws {
        let name = Self.moduleName(linear.weight)
        var weight = Array(parameters[linear.weight.range])
        var inFeatures = linear.inFeatures
        if let pool = pendingPool {
            // The pooled map [C, rows, columns] the weights index, from the graph's [C, height, width].
            let cells = pool.rows.count * pool.columns.count, pixels = pool.height * pool.width
            let channels = linear.inFeatures / cells
            var folded = [Float](repeating: 0, count: linear.outFeatures * channels * pixels)
            for o in 0..<linear.outFeatures {
                for c in 0..<channels {
                    for (i, rows) in pool.rows.enumerated() {
                        for (j, columns) in pool.columns.enumerated() {
                            let share = weight[o * linear.inFeatures + c * cells + i * pool.columns.count + j]
                                / Float(rows.count * columns.count)
                            for y in rows { for x in columns { folded[(o * channels + c) * pixels + y * pool.width + x] += share } }
                        }
                    }
                }
            }
            weight = folded
            inFeatures = channels * pixels
            pendingPool = nil
        }
        guard shape == [inFeatures] else {
            throw NIRExportError(description: "layer \(name): expects \(inFeatures) input features, the graph carries \(shape)")
        }
        graph.add(name, .affine(weight: weight, outFeatures: linear.outFeatures, inFeatures: inFeatures,
                                bias: Array(parameters[linear.bias.range])), inputs: sources)
        sources = [name]
        shape = [linear.outFeatures]
    }
}
