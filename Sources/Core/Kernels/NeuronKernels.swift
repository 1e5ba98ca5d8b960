// Neuron layer kernels: forward over T time steps and full BPTT backward, fused over time.
// Layout [T, M] row-major (T time steps, M = width, the neurons N·C·H·W), element (t, j) at t·M + j.
//
// Forward, per neuron, from v_{-1} = v_r (0 for soft reset), m_{-1} = 0, with k = decay, θ = v_th:
//   (1) h_t  = v_{t-1} - (v_{t-1} - v_r)·k + x_t           (computed as v·(1-k) + x when v_r = 0)
//   (2) f_t  = m_{t-1}·a_t,  a_t = σ(h_t / τ)               CLIF only
//   (3) s_t  = H(h_t - θ),   H(0) = 1
//   (4) m_t  = f_t + s_t                                     CLIF only
//   (5) v'_t = h_t - s_t·θ  (soft)  |  (1 - s_t)·h_t + s_t·v_r  (hard)
//   (6) v_t  = v'_t - s_t·σ(m_t)                             CLIF only (else v_t = v'_t)
//
// Backward: full BPTT; the reset is not detached, so s is differentiated through the surrogate,
// dH/dz := surrogate'(z), everywhere it appears (output, (5), (4), (6)). With g_s = dL/ds_t from
// the layer above and the carried gV = dL/dv_t, gM = dL/dm_t (both 0 after the last step),
// for t = T-1 … 0:
//   (6) gS   = g_s - gV·σ(m_t)                 gM_t = gM - gV·s_t·σ(m_t)(1 - σ(m_t))
//   (5) soft: gH = gV,  gS -= gV·θ             hard: gH = gV·(1 - s_t),  gS += gV·(v_r - h_t)
//   (4) gS  += gM_t                            (dL/df_t = gM_t)
//   (3) gH  += gS · surrogate'(h_t - θ)
//   (2) gH  += gM_t · m_{t-1} · a_t(1 - a_t)/τ,   gM ← gM_t · a_t          (= dL/dm_{t-1})
//   (1) dL/dx_t = gH,   gV ← gH·(1 - k)  (= dL/dv_{t-1}),   dL/dk += gH·(v_r - v_{t-1})
// LIF/PLIF drop the CLIF terms (gS starts at g_s, no gM). v_{t-1} is rebuilt from the saved
// h_{t-1} and m_{t-1} by (3), (5), (6), so the forward saves only h (`charged`) and m (`memory`).
//
// Vectorisation. Each kernel walks the columns in chunks of `chunkWidth`, keeps the recurrent
// state of a chunk (v, m; or dL/dv, dL/dm, σ(m) and the dL/dk sums) in L1-resident scratch rows,
// and for every t runs one branch-free loop over the chunk's columns, which LLVM's loop
// vectoriser turns into 8-lane AVX2 code (with -target-cpu haswell; FastMath's scalar exp and
// sigmoid are branch-free for this purpose; checked in the disassembly for all 24 variants).
// Columns are independent, so the sigmoid latencies of the time recurrence overlap across
// columns. Every lane runs the same IEEE operations as the scalar remainder loop, so a column's
// results do not depend on which other columns share the call.
// Explicit SIMD8<Float> code (v, m in registers across t, 4 vectors interleaved) was tried
// first: Swift lowers SIMD8 arithmetic to lane loops that LLVM has to re-vectorise, and in the
// backward bodies it left lanes in scalar registers; it was 1.2× (forward) to 2–4× (backward)
// slower than this.
//
// Measured (ad-hoc benchmark, one Zen 3 core shared with other jobs, best of 7; T = 6,
// M = 2^20, elements = T·M; rectangle surrogate unless noted):
//                      forward            backward
//   LIF  fast          1.26 G el/s        0.96 G el/s     (near memory bandwidth)
//   LIF  reference     0.10 G el/s        0.08 G el/s
//   CLIF fast          0.37 G el/s        0.35 G el/s     (sigmoid surrogate: 0.28)
//   CLIF reference     0.028 G el/s       0.032 G el/s

/// Fused neuron kernels (docs/neurons.md). Reference versions: `NeuronKernels+Reference.swift`.
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
        let buffers = ForwardBuffers(spikes: spikes, charged: charged, memory: memory ?? spikes, keepsState: true,
                                     openWindow: nil, input: input, T: timeSteps, M: width)
        run(buffers, columns, config, decay)
    }

    /// `forward` that keeps only the spikes: h and m live in a few rows of
    /// scratch instead of two [T, M] buffers (a training forward whose
    /// backward runs the kernel again, and evaluation). The same spikes.
    /// - Parameter openWindow: [T, M] out when given: 1 where the surrogate's
    ///   window is open, `|h_t − θ| <= surrogate.supportHalfWidth` (every
    ///   element for the sigmoid), else 0. Only there can dL/ds_t reach the
    ///   input (step (3) of the backward multiplies it by surrogate'(h_t − θ)).
    public static func spikes(_ spikes: UnsafeMutablePointer<Float>, openWindow: UnsafeMutablePointer<UInt8>? = nil,
                              input: UnsafePointer<Float>,
                              timeSteps: Int, width: Int, columns: Range<Int>,
                              config: NeuronConfig, decay: Float) {
        validate(timeSteps: timeSteps, width: width, columns: columns, config: config,
                 decay: decay, hasMemory: true)
        let buffers = ForwardBuffers(spikes: spikes, charged: spikes, memory: spikes, keepsState: false,
                                     openWindow: openWindow, input: input, T: timeSteps, M: width)
        run(buffers, columns, config, decay)
    }

    private static func run(_ buffers: ForwardBuffers, _ columns: Range<Int>, _ config: NeuronConfig, _ decay: Float) {
        let c = Constants(config: config, decay: decay)
        if config.model == .clif {
            forwardColumns(Complementary.self, config, buffers, columns, c)
        } else {
            forwardColumns(PointNeuron.self, config, buffers, columns, c)
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
    ///   - charged, memory: h and m saved by `forward` (memory: CLIF only, may be nil otherwise).
    ///   - decay: the k passed to `forward`.
    /// - Returns: Σ over `columns` and t of dL/dk (PLIF's caller multiplies by k(1-k) for dL/dw).
    ///   Per column in Float over t, then over columns in Double in column order: deterministic.
    public static func backward(gradInput: UnsafeMutablePointer<Float>,
                                gradSpikes: UnsafePointer<Float>,
                                charged: UnsafePointer<Float>,
                                memory: UnsafePointer<Float>?,
                                timeSteps: Int, width: Int, columns: Range<Int>,
                                config: NeuronConfig, decay: Float) -> Float {
        validate(timeSteps: timeSteps, width: width, columns: columns, config: config,
                 decay: decay, hasMemory: memory != nil)
        let buffers = BackwardBuffers(gradInput: gradInput, gradSpikes: gradSpikes, charged: charged,
                                      memory: memory ?? charged, T: timeSteps, M: width)
        let c = Constants(config: config, decay: decay)
        if config.model == .clif {
            return backwardColumns(Complementary.self, config, buffers, columns, c)
        } else {
            return backwardColumns(PointNeuron.self, config, buffers, columns, c)
        }
    }

    static func validate(timeSteps: Int, width: Int, columns: Range<Int>, config: NeuronConfig,
                         decay: Float, hasMemory: Bool) {
        precondition(timeSteps >= 0 && width >= 0,
                     "neuron kernel: timeSteps \(timeSteps) and width \(width) must be >= 0")
        precondition(columns.lowerBound >= 0 && columns.upperBound <= width,
                     "neuron kernel: columns \(columns) outside 0..<\(width)")
        precondition(decay.isFinite, "neuron kernel: decay \(decay) must be finite")
        precondition(config.tau.isFinite && config.tau != 0,
                     "neuron kernel: tau \(config.tau) must be finite and non-zero")
        precondition(config.model != .clif || hasMemory, "neuron kernel: CLIF needs a memory buffer")
    }
}

// MARK: - Variants as types
// Generic specialisation over these gives one branch-free loop per (model, reset, surrogate).

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

private protocol SurrogateKind { static func gradient(_ z: Float) -> Float }
private enum RectangleSurrogate: SurrogateKind {
    @_transparent
    static func gradient(_ z: Float) -> Float {
        let alpha = Surrogate.rectangle.alpha
        return abs(z) <= alpha / 2 ? 1 / alpha : 0
    }
}
private enum SigmoidSurrogate: SurrogateKind {
    @_transparent
    static func gradient(_ z: Float) -> Float {
        let alpha = Surrogate.sigmoid.alpha
        let sg = FastMath.sigmoid(alpha * z)
        return alpha * sg * (1 - sg)
    }
}
private enum TriangleSurrogate: SurrogateKind {
    @_transparent
    static func gradient(_ z: Float) -> Float {
        let alpha = Surrogate.triangle.alpha
        return abs(z) <= 1 / alpha ? alpha - alpha * alpha * abs(z) : 0
    }
}

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

private struct Constants {
    let k: Float
    let oneMinusK: Float
    let threshold: Float
    let resetValue: Float   // v_r, 0 for soft reset
    let inverseTau: Float
    let windowHalfWidth: Float   // the surrogate's support; infinity for the sigmoid
    init(config: NeuronConfig, decay: Float) {
        k = decay
        oneMinusK = 1 - decay
        threshold = config.vThreshold
        resetValue = config.vReset ?? 0
        inverseTau = 1 / config.tau
        windowHalfWidth = config.surrogate.supportHalfWidth ?? .infinity
    }
}

/// Columns per chunk: the chunk's state rows (≤ 4 × 2 KB) stay in L1 across the T steps.
private let chunkWidth = 512

/// Step (3).
@_transparent
private func fire(_ h: Float, _ c: Constants) -> Float { h >= c.threshold ? 1 : 0 }

/// Steps (5) and (6): the membrane after the full step.
@_transparent
private func membraneAfterReset<Model: ModelKind, Reset: ResetKind>(
    _: Model.Type, _: Reset.Type, _ h: Float, _ s: Float, _ sigmoidM: Float, _ c: Constants
) -> Float {
    var v = Reset.isHard ? (1 - s) * h + s * c.resetValue : h - s * c.threshold
    if Model.isCLIF { v = v - s * sigmoidM }
    return v
}

// MARK: - Forward

private struct ForwardBuffers {
    let spikes: UnsafeMutablePointer<Float>
    let charged: UnsafeMutablePointer<Float>
    let memory: UnsafeMutablePointer<Float>   // CLIF only
    /// False: h and m are written to scratch rows, not to `charged` / `memory`.
    let keepsState: Bool
    /// [T, M] open-window flags, or nil (written to a scratch row instead).
    let openWindow: UnsafeMutablePointer<UInt8>?
    let input: UnsafePointer<Float>
    let T: Int
    let M: Int
}

private func forwardColumns<Model: ModelKind>(_ model: Model.Type, _ config: NeuronConfig,
                                              _ b: ForwardBuffers, _ columns: Range<Int>, _ c: Constants) {
    switch ResetMode(config) {
    case .soft: forwardColumns(model, SoftReset.self, b, columns, c)
    case .hardZero: forwardColumns(model, HardResetToZero.self, b, columns, c)
    case .hardNonzero: forwardColumns(model, HardReset.self, b, columns, c)
    }
}

private func forwardColumns<Model: ModelKind, Reset: ResetKind>(
    _ model: Model.Type, _ reset: Reset.Type, _ b: ForwardBuffers, _ columns: Range<Int>, _ c: Constants
) {
    guard !columns.isEmpty && b.T > 0 else { return }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 5 * chunkWidth) { scratch in
      withUnsafeTemporaryAllocation(of: UInt8.self, capacity: chunkWidth) { windowRow in   // when not asked for
        let v = scratch.baseAddress!
        let m = v + chunkWidth
        let chargedRow = m + chunkWidth, memoryRow = chargedRow + chunkWidth   // when not kept
        let forming = memoryRow + chunkWidth   // a_t = σ(h_t/τ) between the two CLIF passes
        var j = columns.lowerBound
        while j < columns.upperBound {
            let n = min(chunkWidth, columns.upperBound - j)
            v.update(repeating: c.resetValue, count: n)
            m.update(repeating: 0, count: n)
            for t in 0..<b.T {
                let row = t * b.M + j
                forwardRow(model, reset, b.spikes + row, b.keepsState ? b.charged + row : chargedRow,
                           b.keepsState ? b.memory + row : memoryRow, b.openWindow.map { $0 + row } ?? windowRow.baseAddress!,
                           b.input + row, v, m, forming, n, c)
            }
            j += n
        }
      }
    }
}

/// One time step for `n` consecutive columns; v, m hold the state before the step and get the
/// state after it. The loops the vectoriser works on.
///
/// CLIF takes two passes over the columns, (1), (3), (5) and a_t first (kept in `forming`), then
/// (2), (4), (6): in one pass a column's two sigmoids, each ending in a division, form one long
/// dependency chain, and too few columns' chains fit in the out-of-order window to hide it (perf
/// put the kernel's largest share of samples, 13 %, on the instruction waiting for σ(m_t)'s
/// `vdivps`). Each pass has half the chain. The operations and their order are unchanged, and so
/// are the bits; the division stays, as the sigmoid's 1/(1 + e) needs it to round as before.
private func forwardRow<Model: ModelKind, Reset: ResetKind>(
    _ model: Model.Type, _ reset: Reset.Type, _ spikes: UnsafeMutablePointer<Float>,
    _ charged: UnsafeMutablePointer<Float>, _ memory: UnsafeMutablePointer<Float>, _ openWindow: UnsafeMutablePointer<UInt8>,
    _ input: UnsafePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
    _ forming: UnsafeMutablePointer<Float>, _ n: Int, _ c: Constants
) {
    for j in 0..<n {
        let x = input[j]
        let vBefore = v[j]
        // (1) the operation order matches the reference, so LIF/PLIF agree bit for bit
        let h = Reset.chargesTowardReset ? vBefore - (vBefore - c.resetValue) * c.k + x
                                         : vBefore * c.oneMinusK + x
        charged[j] = h
        let s = fire(h, c)                                                  // (3)
        spikes[j] = s
        openWindow[j] = abs(h - c.threshold) <= c.windowHalfWidth ? 1 : 0  // as the surrogates test it
        // (5); CLIF's (6) follows in the second pass
        v[j] = membraneAfterReset(PointNeuron.self, reset, h, s, 0, c)
        if Model.isCLIF { forming[j] = FastMath.sigmoid(h * c.inverseTau) }   // a_t of (2)
    }
    guard Model.isCLIF else { return }
    for j in 0..<n {
        let s = spikes[j]
        let mNow = m[j] * forming[j] + s                                    // (2), (4)
        memory[j] = mNow
        m[j] = mNow
        v[j] = v[j] - s * FastMath.sigmoid(mNow)                            // (6)
    }
}

// MARK: - Backward

private struct BackwardBuffers {
    let gradInput: UnsafeMutablePointer<Float>
    let gradSpikes: UnsafePointer<Float>
    let charged: UnsafePointer<Float>
    let memory: UnsafePointer<Float>   // CLIF only
    let T: Int
    let M: Int
}

private func backwardColumns<Model: ModelKind>(_ model: Model.Type, _ config: NeuronConfig,
                                               _ b: BackwardBuffers, _ columns: Range<Int>,
                                               _ c: Constants) -> Float {
    switch (ResetMode(config), config.surrogate) {
    case (.soft, .rectangle): return backwardColumns(model, SoftReset.self, RectangleSurrogate.self, b, columns, c)
    case (.soft, .sigmoid): return backwardColumns(model, SoftReset.self, SigmoidSurrogate.self, b, columns, c)
    case (.soft, .triangle): return backwardColumns(model, SoftReset.self, TriangleSurrogate.self, b, columns, c)
    case (.hardZero, .rectangle): return backwardColumns(model, HardResetToZero.self, RectangleSurrogate.self, b, columns, c)
    case (.hardZero, .sigmoid): return backwardColumns(model, HardResetToZero.self, SigmoidSurrogate.self, b, columns, c)
    case (.hardZero, .triangle): return backwardColumns(model, HardResetToZero.self, TriangleSurrogate.self, b, columns, c)
    case (.hardNonzero, .rectangle): return backwardColumns(model, HardReset.self, RectangleSurrogate.self, b, columns, c)
    case (.hardNonzero, .sigmoid): return backwardColumns(model, HardReset.self, SigmoidSurrogate.self, b, columns, c)
    case (.hardNonzero, .triangle): return backwardColumns(model, HardReset.self, TriangleSurrogate.self, b, columns, c)
    }
}

private func backwardColumns<Model: ModelKind, Reset: ResetKind, Grad: SurrogateKind>(
    _ model: Model.Type, _ reset: Reset.Type, _ surrogate: Grad.Type, _ b: BackwardBuffers,
    _ columns: Range<Int>, _ c: Constants
) -> Float {
    guard !columns.isEmpty && b.T > 0 else { return 0 }
    var total: Double = 0
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 5 * chunkWidth) { scratch in
        let gradV = scratch.baseAddress!       // dL/dv_t
        let gradM = gradV + chunkWidth         // dL/dm_t
        let gradDecay = gradM + chunkWidth     // Σ_t dL/dk per column
        let sigmoidM = gradDecay + chunkWidth  // σ(m_t), CLIF: computed once, used at t and t+1
        let zeros = sigmoidM + chunkWidth      // stands in for h_{-1}, m_{-1}
        zeros.initialize(repeating: 0, count: chunkWidth)
        var j = columns.lowerBound
        while j < columns.upperBound {
            let n = min(chunkWidth, columns.upperBound - j)
            gradV.update(repeating: 0, count: n)
            gradM.update(repeating: 0, count: n)
            gradDecay.update(repeating: 0, count: n)
            if Model.isCLIF {
                let last = b.memory + (b.T - 1) * b.M + j
                for i in 0..<n { sigmoidM[i] = FastMath.sigmoid(last[i]) }
            }
            for t in (0..<b.T).reversed() {
                let row = t * b.M + j
                let isFirst = t == 0
                backwardRow(model, reset, surrogate, b.gradInput + row, b.gradSpikes + row,
                            b.charged + row,
                            isFirst ? UnsafePointer(zeros) : b.charged + row - b.M,
                            isFirst ? UnsafePointer(zeros) : b.memory + row - b.M,
                            isFirst, gradV, gradM, gradDecay, sigmoidM, n, c)
            }
            total += sumInColumnOrder(gradDecay, n)
            j += n
        }
    }
    return Float(total)
}

/// Σ x[0..<n] in Double, in index order (four interleaved partial sums, combined in a fixed order).
private func sumInColumnOrder(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
    var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
    var i = 0
    while i + 4 <= n {
        s0 += Double(x[i]); s1 += Double(x[i + 1]); s2 += Double(x[i + 2]); s3 += Double(x[i + 3])
        i += 4
    }
    while i < n {
        s0 += Double(x[i])
        i += 1
    }
    return (s0 + s1) + (s2 + s3)
}

/// Backward step t for `n` consecutive columns. `chargedBefore`/`memoryBefore` address row t-1
/// (zeros for t = 0, where `isFirst` also selects v_{-1} = v_r). gradV, gradM carry dL/dv_t,
/// dL/dm_t in and dL/dv_{t-1}, dL/dm_{t-1} out; gradDecay accumulates dL/dk; sigmoidM holds
/// σ(m_t) in and σ(m_{t-1}) out (CLIF).
// Kept out of line: inlined into backwardColumns' closure inside the whole
// Core module, LLVM left this loop scalar (CLIF backward 57 vs 350 M el/s,
// `clif-mpi bench --neuron-kernels 1048576 -T 6`).
@inline(never)
private func backwardRow<Model: ModelKind, Reset: ResetKind, Grad: SurrogateKind>(
    _ model: Model.Type, _ reset: Reset.Type, _ surrogate: Grad.Type,
    _ gradInput: UnsafeMutablePointer<Float>, _ gradSpikes: UnsafePointer<Float>,
    _ charged: UnsafePointer<Float>, _ chargedBefore: UnsafePointer<Float>, _ memoryBefore: UnsafePointer<Float>, _ isFirst: Bool,
    _ gradV: UnsafeMutablePointer<Float>, _ gradM: UnsafeMutablePointer<Float>,
    _ gradDecay: UnsafeMutablePointer<Float>, _ sigmoidMemory: UnsafeMutablePointer<Float>,
    _ n: Int, _ c: Constants
) {
    for j in 0..<n {
        let h = charged[j]
        let s = fire(h, c)
        // State before step t, rebuilt from step t-1.
        let hBefore = chargedBefore[j]
        let mBefore: Float = Model.isCLIF ? memoryBefore[j] : 0
        let sigmoidMBefore: Float = Model.isCLIF ? FastMath.sigmoid(mBefore) : 0
        let rebuilt = membraneAfterReset(model, reset, hBefore, fire(hBefore, c), sigmoidMBefore, c)
        let vBefore = isFirst ? c.resetValue : rebuilt

        let gV = gradV[j]
        var gradS = gradSpikes[j]
        var gradMNow: Float = 0
        if Model.isCLIF {                                                   // (6)
            let sigmoidM = sigmoidMemory[j]
            sigmoidMemory[j] = sigmoidMBefore
            gradS -= gV * sigmoidM
            gradMNow = gradM[j] - gV * s * sigmoidM * (1 - sigmoidM)
        }
        var gradH: Float
        if Reset.isHard {                                                   // (5)
            gradH = gV * (1 - s)
            gradS += gV * (c.resetValue - h)
        } else {
            gradH = gV
            gradS -= gV * c.threshold
        }
        if Model.isCLIF { gradS += gradMNow }                               // (4)
        gradH += gradS * Grad.gradient(h - c.threshold)                     // (3)
        if Model.isCLIF {                                                   // (2)
            let a = FastMath.sigmoid(h * c.inverseTau)
            gradH += gradMNow * mBefore * a * (1 - a) * c.inverseTau
            gradM[j] = gradMNow * a
        }
        gradInput[j] = gradH                                                // (1)
        gradV[j] = gradH * c.oneMinusK
        gradDecay[j] += gradH * (c.resetValue - vBefore)
    }
}
