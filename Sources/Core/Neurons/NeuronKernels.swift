// Neuron layer kernels: forward over T time steps and full BPTT backward, fused per column block.
// Layout [T, M] row-major (T time steps, M = width = N·C·H·W neurons), element (t, j) at t·M + j.
//
// Forward, per neuron, state v_{-1} = v_r (0 for soft reset), m_{-1} = 0, k = decay, θ = v_th:
//   (1) h_t  = v_{t-1} - (v_{t-1} - v_r)·k + x_t           (computed as v·(1-k) + x when v_r = 0)
//   (2) f_t  = m_{t-1}·a_t,  a_t = σ(h_t / τ)               CLIF only
//   (3) s_t  = H(h_t - θ)
//   (4) m_t  = f_t + s_t                                     CLIF only
//   (5) v'_t = h_t - s_t·θ  (soft)  |  (1 - s_t)·h_t + s_t·v_r  (hard)
//   (6) v_t  = v'_t - s_t·σ(m_t)                             CLIF only (else v_t = v'_t)
//
// Backward (full BPTT, reset not detached, dH/dz := surrogate'(z) wherever s appears). With
// g_s = dL/ds_t from the output and the carried gV = dL/dv_t, gM = dL/dm_t (both 0 after the last
// step), going t = T-1 … 0:
//   (6) gS   = g_s - gV·σ(m_t)                 gM_t = gM - gV·s_t·σ(m_t)(1 - σ(m_t))
//   (5) soft: gH = gV,  gS -= gV·θ             hard: gH = gV·(1 - s_t),  gS += gV·(v_r - h_t)
//   (4) gS  += gM_t                            (dL/df_t = gM_t)
//   (3) gH  += gS · surrogate'(h_t - θ)
//   (2) gH  += gM_t · m_{t-1} · a_t(1 - a_t)/τ,   gM ← gM_t · a_t          (dL/dm_{t-1})
//   (1) dL/dx_t = gH,   gV ← gH·(1 - k)  (dL/dv_{t-1}),   dL/dk += gH·(v_r - v_{t-1})
// For LIF/PLIF drop the CLIF terms (gS = g_s, no gM). v_{t-1} is rebuilt from the saved h_{t-1},
// m_{t-1} by (3), (5), (6), so the forward saves only h (`charged`) and, for CLIF, m (`memory`).
//
// Performance: 8 columns per SIMD8<Float> (AVX with -target-cpu haswell), the whole T loop fused
// with v, m and the gradients in registers, FastMath's polynomial sigmoid. A tail of < 8 columns
// runs the same vector code on a zero-padded vector, so a column's results never depend on which
// other columns share the call. Measured (T = 6, M = 2^20, one core of an AMD EPYC, see the
// report in the tests' benchmark): see `NeuronKernelTests.testBenchmark`.

/// Fused SIMD neuron kernels (RECIPE §1). Reference versions: `NeuronKernels+Reference.swift`.
public enum NeuronKernels {
    /// Runs the neuron over `timeSteps` steps for the columns `columns` of [T, M] buffers.
    ///
    /// State starts at v = 0 (soft) or v_reset (hard), m = 0 on every call. Only columns in
    /// `columns` are read or written; each column is an independent recurrence.
    /// - Parameters:
    ///   - spikes: [T, M] out, s_t ∈ {0, 1}.
    ///   - charged: [T, M] out, h_t: membrane after charging, before firing.
    ///   - memory: [T, M] out, m_t after the strengthen step; CLIF only (ignored otherwise, may be nil).
    ///   - input: [T, M] input current x_t.
    ///   - config: model, reset and constants; the surrogate is not used here.
    ///   - decay: k = 1/tau for LIF/CLIF, sigmoid(w) for PLIF.
    public static func forward(spikes: UnsafeMutablePointer<Float>,
                               charged: UnsafeMutablePointer<Float>,
                               memory: UnsafeMutablePointer<Float>?,
                               input: UnsafePointer<Float>,
                               timeSteps: Int, width: Int, columns: Range<Int>,
                               config: NeuronConfig, decay: Float) {
        validate(timeSteps: timeSteps, width: width, columns: columns, config: config,
                 decay: decay, hasMemory: memory != nil)
        let c = Constants(config: config, decay: decay)
        let memory = memory ?? spikes   // never written unless CLIF
        // One specialised loop per variant, chosen once per call.
        if config.model == .clif {
            forwardColumns(Complementary.self, spikes, charged, memory, input, timeSteps, width, columns, c, config)
        } else {
            forwardColumns(PointNeuron.self, spikes, charged, memory, input, timeSteps, width, columns, c, config)
        }
    }

    /// Full BPTT through v and m over all T steps for the columns `columns`.
    ///
    /// Overwrites `gradInput[t, j]` = dL/dx_t for j in `columns`. The spike is differentiated
    /// through the surrogate everywhere it appears (output, reset terms, CLIF's m), as spikingjelly
    /// does with an undetached reset.
    /// - Parameters:
    ///   - gradInput: [T, M] out, dL/dx.
    ///   - gradSpikes: [T, M] dL/ds from the layer above.
    ///   - charged, memory: h and m saved by `forward` (memory: CLIF only).
    ///   - decay: the k passed to `forward`.
    /// - Returns: Σ over `columns` and t of dL/dk (PLIF's caller multiplies by k(1-k) for dL/dw).
    ///   The summation order is fixed for a given `columns` range.
    public static func backward(gradInput: UnsafeMutablePointer<Float>,
                                gradSpikes: UnsafePointer<Float>,
                                charged: UnsafePointer<Float>,
                                memory: UnsafePointer<Float>?,
                                timeSteps: Int, width: Int, columns: Range<Int>,
                                config: NeuronConfig, decay: Float) -> Float {
        validate(timeSteps: timeSteps, width: width, columns: columns, config: config,
                 decay: decay, hasMemory: memory != nil)
        let c = Constants(config: config, decay: decay)
        let memory = memory ?? charged   // never read unless CLIF
        if config.model == .clif {
            return backwardColumns(Complementary.self, gradInput, gradSpikes, charged, memory, timeSteps, width, columns, c, config)
        } else {
            return backwardColumns(PointNeuron.self, gradInput, gradSpikes, charged, memory, timeSteps, width, columns, c, config)
        }
    }

    static func validate(timeSteps: Int, width: Int, columns: Range<Int>, config: NeuronConfig,
                         decay: Float, hasMemory: Bool) {
        precondition(timeSteps >= 0 && width >= 0,
                     "neuron kernel: timeSteps \(timeSteps) and width \(width) must be >= 0")
        precondition(columns.lowerBound >= 0 && columns.upperBound <= width,
                     "neuron kernel: columns \(columns) outside 0..<\(width)")
        precondition(decay.isFinite, "neuron kernel: decay \(decay) must be finite")
        precondition(config.tau.isFinite && config.tau != 0, "neuron kernel: tau \(config.tau) must be finite and non-zero")
        precondition(config.model != .clif || hasMemory, "neuron kernel: CLIF needs a memory buffer")
    }
}


// MARK: - Variants as types
// Each variant is a type so that generic specialisation gives one straight-line loop per
// (model, reset, surrogate) with the flags folded away; `@inline(__always)` with Bool arguments
// is not reliable for bodies this large.

private protocol ModelKind { static var isCLIF: Bool { get } }
/// LIF and PLIF (they differ only in where the caller's decay comes from).
private enum PointNeuron: ModelKind { static var isCLIF: Bool { false } }
private enum Complementary: ModelKind { static var isCLIF: Bool { true } }

private protocol ResetKind {
    static var isHard: Bool { get }
    /// Charge as v - (v - v_r)·k + x instead of v·(1-k) + x (spikingjelly's v_r ≠ 0 branch).
    static var chargesTowardReset: Bool { get }
}
private enum SoftReset: ResetKind {
    static var isHard: Bool { false }
    static var chargesTowardReset: Bool { false }
}
private enum HardResetToZero: ResetKind {
    static var isHard: Bool { true }
    static var chargesTowardReset: Bool { false }
}
private enum HardReset: ResetKind {
    static var isHard: Bool { true }
    static var chargesTowardReset: Bool { true }
}

private protocol SurrogateKind { static func gradient(_ z: SIMD8<Float>) -> SIMD8<Float> }
private enum RectangleSurrogate: SurrogateKind {
    @_transparent
    static func gradient(_ z: SIMD8<Float>) -> SIMD8<Float> {
        let alpha = Surrogate.rectangle.alpha
        return SIMD8<Float>().replacing(with: 1 / alpha, where: absolute(z) .<= alpha / 2)
    }
}
private enum SigmoidSurrogate: SurrogateKind {
    @_transparent
    static func gradient(_ z: SIMD8<Float>) -> SIMD8<Float> {
        let alpha = Surrogate.sigmoid.alpha
        let sg = FastMath.sigmoid(alpha * z)
        return alpha * sg * (1 - sg)
    }
}
private enum TriangleSurrogate: SurrogateKind {
    @_transparent
    static func gradient(_ z: SIMD8<Float>) -> SIMD8<Float> {
        let alpha = Surrogate.triangle.alpha
        let a = absolute(z)
        return SIMD8<Float>().replacing(with: alpha - alpha * alpha * a, where: a .<= 1 / alpha)
    }
}

/// Scalars of the recursion, broadcast to vectors once per block (a struct of vectors would be
/// copied through memory on every block call).
private struct Constants {
    let k: Float
    let oneMinusK: Float
    let threshold: Float
    let resetValue: Float   // v_r, 0 for soft reset
    let inverseTau: Float
    init(config: NeuronConfig, decay: Float) {
        k = decay
        oneMinusK = 1 - decay
        threshold = config.vThreshold
        resetValue = config.vReset ?? 0
        inverseTau = 1 / config.tau
    }
}

private struct VectorConstants {
    let k: SIMD8<Float>
    let oneMinusK: SIMD8<Float>
    let threshold: SIMD8<Float>
    let resetValue: SIMD8<Float>
    let inverseTau: SIMD8<Float>
    @_transparent
    init(_ c: Constants) {
        k = SIMD8(repeating: c.k)
        oneMinusK = SIMD8(repeating: c.oneMinusK)
        threshold = SIMD8(repeating: c.threshold)
        resetValue = SIMD8(repeating: c.resetValue)
        inverseTau = SIMD8(repeating: c.inverseTau)
    }
}

// MARK: - Vector helpers

private let lanes = 8

@_transparent
private func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@_transparent
private func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

@_transparent
private func absolute(_ x: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8(repeating: 0x7FFF_FFFF),
                  to: SIMD8<Float>.self)
}

/// Step (3): H(h - θ) as 0/1 floats, H(0) = 1.
@_transparent
private func fire(_ h: SIMD8<Float>, _ c: VectorConstants) -> SIMD8<Float> {
    SIMD8<Float>().replacing(with: 1, where: h .>= c.threshold)
}

/// Steps (5) and (6): the membrane after the full step.
@_transparent
private func membraneAfterReset<Model: ModelKind, Reset: ResetKind>(
    _: Model.Type, _: Reset.Type, _ h: SIMD8<Float>, _ s: SIMD8<Float>, _ sigmoidM: SIMD8<Float>,
    _ c: VectorConstants
) -> SIMD8<Float> {
    var v = Reset.isHard ? (1 - s) * h + s * c.resetValue : h - s * c.threshold
    if Model.isCLIF { v = v - s * sigmoidM }
    return v
}

/// Copies columns j ..< j+count of a [T, M] buffer into a zero-padded [T, 8] one.
private func gatherTail(_ destination: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>,
                        _ T: Int, _ M: Int, _ j: Int, _ count: Int) {
    destination.initialize(repeating: 0, count: T * lanes)
    for t in 0..<T {
        for l in 0..<count { destination[t * lanes + l] = source[t * M + j + l] }
    }
}

/// Copies a [T, 8] buffer back into columns j ..< j+count of a [T, M] one.
private func scatterTail(_ destination: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>,
                         _ T: Int, _ M: Int, _ j: Int, _ count: Int) {
    for t in 0..<T {
        for l in 0..<count { destination[t * M + j + l] = source[t * lanes + l] }
    }
}

// MARK: - Forward

private func forwardColumns<Model: ModelKind>(
    _ model: Model.Type, _ spikes: UnsafeMutablePointer<Float>, _ charged: UnsafeMutablePointer<Float>,
    _ memory: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
    _ T: Int, _ M: Int, _ columns: Range<Int>, _ c: Constants, _ config: NeuronConfig
) {
    switch ResetMode(config) {
    case .soft: forwardColumns(model, SoftReset.self, spikes, charged, memory, input, T, M, columns, c)
    case .hardZero: forwardColumns(model, HardResetToZero.self, spikes, charged, memory, input, T, M, columns, c)
    case .hardNonzero: forwardColumns(model, HardReset.self, spikes, charged, memory, input, T, M, columns, c)
    }
}

private func forwardColumns<Model: ModelKind, Reset: ResetKind>(
    _ model: Model.Type, _ reset: Reset.Type, _ spikes: UnsafeMutablePointer<Float>,
    _ charged: UnsafeMutablePointer<Float>, _ memory: UnsafeMutablePointer<Float>,
    _ input: UnsafePointer<Float>, _ T: Int, _ M: Int, _ columns: Range<Int>, _ c: Constants
) {
    var j = columns.lowerBound
    while j + lanes <= columns.upperBound {
        forwardBlock(model, reset, spikes + j, charged + j, memory + j, input + j, T, M, c)
        j += lanes
    }
    let count = columns.upperBound - j
    guard count > 0 else { return }
    // Tail: the same vector code on zero-padded copies, so a column's result does not depend
    // on whether it fell in a full block or in the tail.
    let n = T * lanes
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * max(n, 1)) { scratch in
        let base = scratch.baseAddress!
        let (x, s, h, m) = (base, base + n, base + 2 * n, base + 3 * n)
        gatherTail(x, input, T, M, j, count)
        forwardBlock(model, reset, s, h, m, x, T, lanes, c)
        scatterTail(spikes, s, T, M, j, count)
        scatterTail(charged, h, T, M, j, count)
        if Model.isCLIF { scatterTail(memory, m, T, M, j, count) }
    }
}

/// Eight columns over all T steps; pointers address column j, rows `stride` apart.
private func forwardBlock<Model: ModelKind, Reset: ResetKind>(
    _ model: Model.Type, _ reset: Reset.Type, _ spikes: UnsafeMutablePointer<Float>,
    _ charged: UnsafeMutablePointer<Float>, _ memory: UnsafeMutablePointer<Float>,
    _ input: UnsafePointer<Float>, _ T: Int, _ stride: Int, _ constants: Constants
) {
    let c = VectorConstants(constants)
    var v = c.resetValue
    var m = SIMD8<Float>()
    var i = 0
    for _ in 0..<T {
        let x = load(input + i)
        // (1) the operation order matches the reference, so LIF/PLIF agree bit for bit
        let h = Reset.chargesTowardReset ? v - (v - c.resetValue) * c.k + x : v * c.oneMinusK + x
        store(h, charged + i)
        if Model.isCLIF { m = m * FastMath.sigmoid(h * c.inverseTau) }   // (2)
        let s = fire(h, c)                                                // (3)
        store(s, spikes + i)
        var sigmoidM = SIMD8<Float>()
        if Model.isCLIF {                                                 // (4)
            m = m + s
            store(m, memory + i)
            sigmoidM = FastMath.sigmoid(m)
        }
        v = membraneAfterReset(model, reset, h, s, sigmoidM, c)           // (5), (6)
        i += stride
    }
}

// MARK: - Backward

private func backwardColumns<Model: ModelKind>(
    _ model: Model.Type, _ gradInput: UnsafeMutablePointer<Float>, _ gradSpikes: UnsafePointer<Float>,
    _ charged: UnsafePointer<Float>, _ memory: UnsafePointer<Float>,
    _ T: Int, _ M: Int, _ columns: Range<Int>, _ c: Constants, _ config: NeuronConfig
) -> Float {
    switch ResetMode(config) {
    case .soft:
        return backwardColumns(model, SoftReset.self, gradInput, gradSpikes, charged, memory, T, M, columns, c, config)
    case .hardZero:
        return backwardColumns(model, HardResetToZero.self, gradInput, gradSpikes, charged, memory, T, M, columns, c, config)
    case .hardNonzero:
        return backwardColumns(model, HardReset.self, gradInput, gradSpikes, charged, memory, T, M, columns, c, config)
    }
}

private func backwardColumns<Model: ModelKind, Reset: ResetKind>(
    _ model: Model.Type, _ reset: Reset.Type, _ gradInput: UnsafeMutablePointer<Float>,
    _ gradSpikes: UnsafePointer<Float>, _ charged: UnsafePointer<Float>, _ memory: UnsafePointer<Float>,
    _ T: Int, _ M: Int, _ columns: Range<Int>, _ c: Constants, _ config: NeuronConfig
) -> Float {
    switch config.surrogate {
    case .rectangle:
        return backwardColumns(model, reset, RectangleSurrogate.self, gradInput, gradSpikes, charged, memory, T, M, columns, c)
    case .sigmoid:
        return backwardColumns(model, reset, SigmoidSurrogate.self, gradInput, gradSpikes, charged, memory, T, M, columns, c)
    case .triangle:
        return backwardColumns(model, reset, TriangleSurrogate.self, gradInput, gradSpikes, charged, memory, T, M, columns, c)
    }
}

private func backwardColumns<Model: ModelKind, Reset: ResetKind, Grad: SurrogateKind>(
    _ model: Model.Type, _ reset: Reset.Type, _ surrogate: Grad.Type,
    _ gradInput: UnsafeMutablePointer<Float>, _ gradSpikes: UnsafePointer<Float>,
    _ charged: UnsafePointer<Float>, _ memory: UnsafePointer<Float>,
    _ T: Int, _ M: Int, _ columns: Range<Int>, _ c: Constants
) -> Float {
    // dL/dk: lane sums in Float over at most `flushEvery` blocks, then into a Double total —
    // a fixed order for a given range, without precision loss over a million columns.
    let flushEvery = 64
    var total: Double = 0
    var laneSum = SIMD8<Float>()
    func flush() {
        for l in 0..<lanes { total += Double(laneSum[l]) }
        laneSum = SIMD8()
    }
    var j = columns.lowerBound
    var blocks = 0
    while j + lanes <= columns.upperBound {
        laneSum += backwardBlock(model, reset, surrogate, gradInput + j, gradSpikes + j, charged + j,
                                 memory + j, T, M, c)
        j += lanes
        blocks += 1
        if blocks % flushEvery == 0 { flush() }
    }
    let count = columns.upperBound - j
    if count > 0 {
        let n = T * lanes
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * max(n, 1)) { scratch in
            let base = scratch.baseAddress!
            let (gx, gs, h, m) = (base, base + n, base + 2 * n, base + 3 * n)
            gatherTail(gs, gradSpikes, T, M, j, count)
            gatherTail(h, charged, T, M, j, count)
            if Model.isCLIF { gatherTail(m, memory, T, M, j, count) }
            var tail = backwardBlock(model, reset, surrogate, gx, gs, h, m, T, lanes, c)
            for l in count..<lanes { tail[l] = 0 }
            laneSum += tail
            scatterTail(gradInput, gx, T, M, j, count)
        }
    }
    flush()
    return Float(total)
}

/// Eight columns, t = T-1 … 0; returns Σ_t dL/dk per lane. Pointers address column j.
private func backwardBlock<Model: ModelKind, Reset: ResetKind, Grad: SurrogateKind>(
    _ model: Model.Type, _ reset: Reset.Type, _ surrogate: Grad.Type,
    _ gradInput: UnsafeMutablePointer<Float>, _ gradSpikes: UnsafePointer<Float>,
    _ charged: UnsafePointer<Float>, _ memory: UnsafePointer<Float>,
    _ T: Int, _ stride: Int, _ constants: Constants
) -> SIMD8<Float> {
    guard T > 0 else { return SIMD8() }
    let c = VectorConstants(constants)
    var gradV = SIMD8<Float>()      // dL/dv_t
    var gradM = SIMD8<Float>()      // dL/dm_t
    var gradDecay = SIMD8<Float>()
    var i = (T - 1) * stride
    var h = load(charged + i)
    var sigmoidM = Model.isCLIF ? FastMath.sigmoid(load(memory + i)) : SIMD8()
    for t in (0..<T).reversed() {
        let s = fire(h, c)
        // State before step t, rebuilt from the saved h_{t-1}, m_{t-1}.
        var hPrevious = SIMD8<Float>()
        var mPrevious = SIMD8<Float>()
        var sigmoidMPrevious = SIMD8<Float>()
        var vPrevious = c.resetValue
        if t > 0 {
            hPrevious = load(charged + i - stride)
            if Model.isCLIF {
                mPrevious = load(memory + i - stride)
                sigmoidMPrevious = FastMath.sigmoid(mPrevious)
            }
            vPrevious = membraneAfterReset(model, reset, hPrevious, fire(hPrevious, c), sigmoidMPrevious, c)
        }

        var gradS = load(gradSpikes + i)
        var gradMNow = gradM
        if Model.isCLIF {                                                   // (6)
            gradS -= gradV * sigmoidM
            gradMNow -= gradV * s * sigmoidM * (1 - sigmoidM)
        }
        var gradH: SIMD8<Float>
        if Reset.isHard {                                                   // (5)
            gradH = gradV * (1 - s)
            gradS += gradV * (c.resetValue - h)
        } else {
            gradH = gradV
            gradS -= gradV * c.threshold
        }
        if Model.isCLIF { gradS += gradMNow }                               // (4)
        gradH += gradS * Grad.gradient(h - c.threshold)                     // (3)
        if Model.isCLIF {                                                   // (2)
            let a = FastMath.sigmoid(h * c.inverseTau)
            gradH += gradMNow * mPrevious * a * (1 - a) * c.inverseTau
            gradM = gradMNow * a
        }
        store(gradH, gradInput + i)                                         // (1)
        gradV = gradH * c.oneMinusK
        gradDecay += gradH * (c.resetValue - vPrevious)

        h = hPrevious
        sigmoidM = sigmoidMPrevious
        i -= stride
    }
    return gradDecay
}

/// Reset variants; `hardZero` charges as v·(1-k) + x, like spikingjelly for v_reset = 0.
private enum ResetMode {
    case soft, hardZero, hardNonzero
    init(_ config: NeuronConfig) {
        switch config.vReset {
        case nil: self = .soft
        case 0?: self = .hardZero
        default: self = .hardNonzero
        }
    }
}
