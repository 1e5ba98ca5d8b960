import Core
import Foundation
import XCTest

/// Fast fused neuron kernels against the scalar reference, and the reference backward against an
/// independent forward-mode (dual number) differentiation of the recursion in Double.
final class NeuronKernelTests: XCTestCase {
    // MARK: - Fixtures

    /// Deterministic uniform numbers (64-bit LCG, top 24 bits).
    struct Generator {
        var state: UInt64
        mutating func next(_ lower: Float, _ upper: Float) -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return lower + (upper - lower) * Float(state >> 40) / Float(1 << 24)
        }
        mutating func array(_ count: Int, _ lower: Float, _ upper: Float) -> [Float] {
            (0..<count).map { _ in next(lower, upper) }
        }
    }

    static let resets: [(name: String, value: Float?)] = [("soft", nil), ("hard 0", 0), ("hard -0.04", -0.04)]

    static var allConfigs: [NeuronConfig] {
        var configs: [NeuronConfig] = []
        for model in NeuronModel.allCases {
            for surrogate in Surrogate.allCases {
                for reset in resets {
                    configs.append(NeuronConfig(model: model, surrogate: surrogate, vReset: reset.value))
                }
            }
        }
        return configs
    }

    /// k = 1/tau for LIF/CLIF; PLIF uses sigmoid(w) with w = 0.3 so that k ≠ 1/tau.
    static func decay(_ config: NeuronConfig) -> Float {
        config.model == .plif ? 1 / (1 + Float(Foundation.exp(-0.3))) : 1 / config.tau
    }

    static let sentinel: Float = 777

    struct ForwardOutput {
        var spikes: [Float]
        var charged: [Float]
        var memory: [Float]
    }

    static func runForward(fast: Bool, input: [Float], T: Int, M: Int, columns: Range<Int>,
                           config: NeuronConfig, decay: Float) -> ForwardOutput {
        var out = ForwardOutput(spikes: .init(repeating: sentinel, count: T * M),
                                charged: .init(repeating: sentinel, count: T * M),
                                memory: .init(repeating: sentinel, count: T * M))
        let isCLIF = config.model == .clif
        out.spikes.withUnsafeMutableBufferPointer { s in
            out.charged.withUnsafeMutableBufferPointer { h in
                out.memory.withUnsafeMutableBufferPointer { m in
                    input.withUnsafeBufferPointer { x in
                        let memory = isCLIF ? m.baseAddress! : nil
                        if fast {
                            NeuronKernels.forward(spikes: s.baseAddress!, charged: h.baseAddress!, memory: memory,
                                                  input: x.baseAddress!, timeSteps: T, width: M,
                                                  columns: columns, config: config, decay: decay)
                        } else {
                            NeuronKernels.referenceForward(spikes: s.baseAddress!, charged: h.baseAddress!,
                                                           memory: memory, input: x.baseAddress!, timeSteps: T,
                                                           width: M, columns: columns, config: config, decay: decay)
                        }
                    }
                }
            }
        }
        return out
    }

    /// The spikes-only forward (h and m in scratch rows) gives the full
    /// forward's spikes bit for bit, and writes only the columns asked for.
    func testSpikesOnlyForwardEqualsTheFullOne() {
        var generator = Generator(state: 11)
        let T = 5, M = 300, columns = 7..<290
        let input = generator.array(T * M, -0.5, 2.5)
        for config in Self.allConfigs {
            let full = Self.runForward(fast: true, input: input, T: T, M: M, columns: columns, config: config,
                                       decay: Self.decay(config))
            var spikes = [Float](repeating: Self.sentinel, count: T * M)
            spikes.withUnsafeMutableBufferPointer { s in
                input.withUnsafeBufferPointer { x in
                    NeuronKernels.spikes(s.baseAddress!, input: x.baseAddress!, timeSteps: T, width: M, columns: columns,
                                         config: config, decay: Self.decay(config))
                }
            }
            XCTAssertEqual(spikes.map(\.bitPattern), full.spikes.map(\.bitPattern), "\(config)")
            XCTAssertTrue(full.spikes.contains(1) && full.spikes.contains(0), "\(config): both outcomes occur")
        }
    }

    static func runBackward(fast: Bool, gradSpikes: [Float], charged: [Float], memory: [Float], T: Int, M: Int,
                            columns: Range<Int>, config: NeuronConfig, decay: Float) -> (grad: [Float], decay: Float) {
        var grad = [Float](repeating: sentinel, count: T * M)
        var gradDecay: Float = 0
        let isCLIF = config.model == .clif
        grad.withUnsafeMutableBufferPointer { gx in
            gradSpikes.withUnsafeBufferPointer { gs in
                charged.withUnsafeBufferPointer { h in
                    memory.withUnsafeBufferPointer { m in
                        let memory = isCLIF ? m.baseAddress! : nil
                        if fast {
                            gradDecay = NeuronKernels.backward(
                                gradInput: gx.baseAddress!, gradSpikes: gs.baseAddress!, charged: h.baseAddress!,
                                memory: memory, timeSteps: T, width: M, columns: columns, config: config, decay: decay)
                        } else {
                            gradDecay = NeuronKernels.referenceBackward(
                                gradInput: gx.baseAddress!, gradSpikes: gs.baseAddress!, charged: h.baseAddress!,
                                memory: memory, timeSteps: T, width: M, columns: columns, config: config, decay: decay)
                        }
                    }
                }
            }
        }
        return (grad, gradDecay)
    }

    /// max |a - b| / max(1, max |b|) over the columns in `columns` not in `skip`;
    /// `.infinity` when a value there is NaN or infinite.
    static func relativeError(_ a: [Float], _ b: [Float], T: Int, M: Int, columns: Range<Int>,
                              skip: Set<Int> = []) -> Float {
        var maxDifference: Float = 0
        var maxMagnitude: Float = 1
        for t in 0..<T {
            for j in columns where !skip.contains(j) {
                let i = t * M + j
                guard a[i].isFinite, b[i].isFinite else { return .infinity }
                maxDifference = max(maxDifference, abs(a[i] - b[i]))
                maxMagnitude = max(maxMagnitude, abs(b[i]))
            }
        }
        return maxDifference / maxMagnitude
    }

    /// Every element outside `columns` still holds the sentinel.
    static func untouchedOutside(_ a: [Float], T: Int, M: Int, columns: Range<Int>) -> Bool {
        for t in 0..<T {
            for j in 0..<M where !columns.contains(j) && a[t * M + j] != sentinel { return false }
        }
        return true
    }

    static let layouts: [(M: Int, columns: Range<Int>)] = [
        (1, 0..<1), (7, 0..<7), (8, 0..<8), (9, 0..<9), (1023, 0..<1023), (1023, 3..<1000),
    ]

    // MARK: - Fast against reference

    func testFastForwardMatchesReference() {
        var generator = Generator(state: 2022)
        var worst: (h: Float, m: Float) = (0, 0)
        for config in Self.allConfigs {
            let k = Self.decay(config)
            for T in [1, 6] {
                for (M, columns) in Self.layouts {
                    let input = generator.array(T * M, -1, 2)
                    let fast = Self.runForward(fast: true, input: input, T: T, M: M, columns: columns,
                                               config: config, decay: k)
                    let reference = Self.runForward(fast: false, input: input, T: T, M: M, columns: columns,
                                                    config: config, decay: k)
                    let label = "\(config.model) \(config.surrogate) vReset \(String(describing: config.vReset)) T \(T) M \(M) columns \(columns)"

                    // A spike may flip only where h is within 1e-5 of the threshold; CLIF's state
                    // then legitimately diverges, so that column is left out from there on.
                    var diverged = Set<Int>()
                    for j in columns {
                        for t in 0..<T {
                            let i = t * M + j
                            if fast.spikes[i] != reference.spikes[i] {
                                XCTAssertLessThan(abs(reference.charged[i] - config.vThreshold), 1e-5,
                                                  "\(label): spike differs at t \(t) j \(j), h \(reference.charged[i]) vs \(fast.charged[i])")
                                diverged.insert(j)
                                break
                            }
                        }
                    }
                    XCTAssertLessThanOrEqual(diverged.count, 2, "\(label): \(diverged.count) columns diverged")
                    let errorH = Self.relativeError(fast.charged, reference.charged, T: T, M: M, columns: columns, skip: diverged)
                    XCTAssertLessThanOrEqual(errorH, 1e-5, "\(label): h max relative difference \(errorH)")
                    worst.h = max(worst.h, errorH)
                    if config.model == .clif {
                        let errorM = Self.relativeError(fast.memory, reference.memory, T: T, M: M, columns: columns, skip: diverged)
                        XCTAssertLessThanOrEqual(errorM, 1e-5, "\(label): m max relative difference \(errorM)")
                        worst.m = max(worst.m, errorM)
                        XCTAssertTrue(Self.untouchedOutside(fast.memory, T: T, M: M, columns: columns), "\(label): m written outside columns")
                    } else {
                        // No sigmoid in LIF/PLIF and the same operation order: bit-identical.
                        XCTAssertEqual(fast.charged, reference.charged, "\(label): LIF/PLIF h not bit-identical")
                        XCTAssertEqual(fast.spikes, reference.spikes, "\(label): LIF/PLIF spikes not identical")
                        XCTAssertTrue(fast.memory.allSatisfy { $0 == Self.sentinel }, "\(label): memory written for non-CLIF")
                    }
                    XCTAssertTrue(Self.untouchedOutside(fast.spikes, T: T, M: M, columns: columns), "\(label): spikes written outside columns")
                    XCTAssertTrue(Self.untouchedOutside(fast.charged, T: T, M: M, columns: columns), "\(label): h written outside columns")
                    XCTAssertTrue(Self.untouchedOutside(reference.charged, T: T, M: M, columns: columns), "\(label): reference h written outside columns")
                }
            }
        }
        print("fast vs reference forward: max relative difference h \(worst.h), m \(worst.m)")
    }

    func testFastBackwardMatchesReference() {
        var generator = Generator(state: 7)
        var worst: (grad: Float, decay: Float) = (0, 0)
        for config in Self.allConfigs {
            let k = Self.decay(config)
            for T in [1, 6] {
                for (M, columns) in Self.layouts {
                    let input = generator.array(T * M, -1, 2)
                    let gradSpikes = generator.array(T * M, -1, 1)
                    // Both backward kernels read the same saved state, so surrogate branches agree.
                    let saved = Self.runForward(fast: false, input: input, T: T, M: M, columns: 0..<M,
                                                config: config, decay: k)
                    let fast = Self.runBackward(fast: true, gradSpikes: gradSpikes, charged: saved.charged,
                                                memory: saved.memory, T: T, M: M, columns: columns, config: config, decay: k)
                    let reference = Self.runBackward(fast: false, gradSpikes: gradSpikes, charged: saved.charged,
                                                     memory: saved.memory, T: T, M: M, columns: columns, config: config, decay: k)
                    let label = "\(config.model) \(config.surrogate) vReset \(String(describing: config.vReset)) T \(T) M \(M) columns \(columns)"
                    let errorGrad = Self.relativeError(fast.grad, reference.grad, T: T, M: M, columns: columns)
                    XCTAssertLessThanOrEqual(errorGrad, 1e-5, "\(label): dL/dx max relative difference \(errorGrad)")
                    let errorDecay = abs(fast.decay - reference.decay) / max(1, abs(reference.decay))
                    XCTAssertLessThanOrEqual(errorDecay, 1e-5, "\(label): dL/dk \(fast.decay) vs \(reference.decay)")
                    XCTAssertTrue(Self.untouchedOutside(fast.grad, T: T, M: M, columns: columns), "\(label): grad written outside columns")
                    XCTAssertTrue(Self.untouchedOutside(reference.grad, T: T, M: M, columns: columns), "\(label): reference grad written outside columns")
                    worst = (max(worst.grad, errorGrad), max(worst.decay, errorDecay))
                }
            }
        }
        print("fast vs reference backward: max relative difference dL/dx \(worst.grad), dL/dk \(worst.decay)")
    }

    /// A column's results do not depend on which other columns share the call (vector body vs
    /// remainder loop, chunk boundaries), bit for bit.
    func testFastKernelsAreIndependentOfColumnChunking() {
        var generator = Generator(state: 99)
        let T = 6
        let splits: [(M: Int, pieces: [Range<Int>])] = [
            (45, [0..<5, 5..<21, 21..<22, 22..<45]),
            (1100, [0..<3, 3..<515, 515..<1030, 1030..<1100]),
        ]
        for (M, pieces) in splits {
            for config in Self.allConfigs {
                let k = Self.decay(config)
                let input = generator.array(T * M, -1, 2)
                let gradSpikes = generator.array(T * M, -1, 1)
                let whole = Self.runForward(fast: true, input: input, T: T, M: M, columns: 0..<M, config: config, decay: k)
                let wholeGrad = Self.runBackward(fast: true, gradSpikes: gradSpikes, charged: whole.charged,
                                                 memory: whole.memory, T: T, M: M, columns: 0..<M, config: config, decay: k)
                var parts = Self.runForward(fast: true, input: input, T: T, M: M, columns: 0..<0, config: config, decay: k)
                var partsGrad = [Float](repeating: Self.sentinel, count: T * M)
                for piece in pieces {
                    let part = Self.runForward(fast: true, input: input, T: T, M: M, columns: piece, config: config, decay: k)
                    let partGrad = Self.runBackward(fast: true, gradSpikes: gradSpikes, charged: whole.charged,
                                                    memory: whole.memory, T: T, M: M, columns: piece, config: config, decay: k)
                    for t in 0..<T {
                        for j in piece {
                            parts.spikes[t * M + j] = part.spikes[t * M + j]
                            parts.charged[t * M + j] = part.charged[t * M + j]
                            parts.memory[t * M + j] = part.memory[t * M + j]
                            partsGrad[t * M + j] = partGrad.grad[t * M + j]
                        }
                    }
                }
                XCTAssertEqual(parts.spikes, whole.spikes, "M \(M) \(config)")
                XCTAssertEqual(parts.charged, whole.charged, "M \(M) \(config)")
                XCTAssertEqual(parts.memory, whole.memory, "M \(M) \(config)")
                XCTAssertEqual(partsGrad, wholeGrad.grad, "M \(M) \(config)")
            }
        }
    }

    /// The scalar FastMath functions (used by the vectorised kernel loops) and the SIMD8 ones
    /// agree bit for bit.
    func testScalarAndVectorFastMathAgree() {
        var generator = Generator(state: 5)
        let xs = generator.array(4096, -120, 120) + [0, -0.0, .infinity, -.infinity, 88.9, -104]
        for i in stride(from: 0, to: xs.count - 7, by: 8) {
            let v = SIMD8<Float>(xs[i..<(i + 8)])
            let (e, s) = (FastMath.exp(v), FastMath.sigmoid(v))
            for l in 0..<8 {
                XCTAssertEqual(FastMath.exp(xs[i + l]).bitPattern, e[l].bitPattern, "exp(\(xs[i + l]))")
                XCTAssertEqual(FastMath.sigmoid(xs[i + l]).bitPattern, s[l].bitPattern, "sigmoid(\(xs[i + l]))")
            }
        }
    }

    // MARK: - Backward against forward-mode differentiation

    /// A dual number a + b·ε for forward-mode differentiation.
    struct Dual {
        var value: Double
        var tangent: Double
        init(_ value: Double, _ tangent: Double = 0) { self.value = value; self.tangent = tangent }
        static func + (a: Dual, b: Dual) -> Dual { Dual(a.value + b.value, a.tangent + b.tangent) }
        static func - (a: Dual, b: Dual) -> Dual { Dual(a.value - b.value, a.tangent - b.tangent) }
        static func * (a: Dual, b: Dual) -> Dual { Dual(a.value * b.value, a.tangent * b.value + a.value * b.tangent) }
        static func sigmoid(_ a: Dual) -> Dual {
            let s = 1 / (1 + Foundation.exp(-a.value))
            return Dual(s, a.tangent * s * (1 - s))
        }
    }

    /// The surrogate convention in Double: value H(z), derivative surrogate'(z).
    static func heaviside(_ z: Dual, _ surrogate: Surrogate) -> Dual {
        let alpha = Double(surrogate.alpha)
        let derivative: Double
        switch surrogate {
        case .rectangle:
            derivative = abs(z.value) <= alpha / 2 ? 1 / alpha : 0
        case .sigmoid:
            let sg = 1 / (1 + Foundation.exp(-alpha * z.value))
            derivative = alpha * sg * (1 - sg)
        case .triangle:
            derivative = abs(z.value) <= 1 / alpha ? alpha - alpha * alpha * abs(z.value) : 0
        }
        return Dual(z.value >= 0 ? 1 : 0, derivative * z.tangent)
    }

    /// L = Σ_t g_t·s_t for one column, written straight from docs/neurons.md over dual numbers.
    /// Also returns the smallest distance of z = h - v_th from a point where H or its surrogate
    /// derivative jumps (0, and ±alpha/2 or ±1/alpha), to skip columns Float and Double may round
    /// to different sides of.
    static func dualLoss(x: [Dual], k: Dual, gradSpikes: [Double], config: NeuronConfig) -> (loss: Dual, margin: Double) {
        let tau = Dual(Double(config.tau))
        let threshold = Dual(Double(config.vThreshold))
        let resetValue = Dual(Double(config.vReset ?? 0))
        let one = Dual(1)
        let alpha = Double(config.surrogate.alpha)
        let edge: Double? = switch config.surrogate {
        case .rectangle: alpha / 2
        case .sigmoid: nil
        case .triangle: 1 / alpha
        }
        var v = resetValue
        var m = Dual(0)
        var loss = Dual(0)
        var margin = Double.infinity
        for t in x.indices {
            let h = v - (v - resetValue) * k + x[t]
            if config.model == .clif {
                m = m * Dual.sigmoid(Dual(h.value / tau.value, h.tangent / tau.value))
            }
            let z = h - threshold
            margin = min(margin, abs(z.value))
            if let edge { margin = min(margin, abs(abs(z.value) - edge)) }
            let s = heaviside(z, config.surrogate)
            loss = loss + Dual(gradSpikes[t]) * s
            if config.model == .clif { m = m + s }
            v = config.vReset == nil ? h - s * threshold : (one - s) * h + s * resetValue
            if config.model == .clif { v = v - s * Dual.sigmoid(m) }
        }
        return (loss, margin)
    }

    func testReferenceBackwardMatchesForwardModeDerivatives() {
        var generator = Generator(state: 314)
        var configs = Self.allConfigs
        // Non-default constants: tau ≠ 2 (CLIF's h/tau), threshold ≠ 1.
        configs.append(NeuronConfig(model: .clif, surrogate: .sigmoid, tau: 3, vThreshold: 0.7, vReset: -0.04))
        configs.append(NeuronConfig(model: .clif, surrogate: .triangle, tau: 1.5, vThreshold: 1.2))
        configs.append(NeuronConfig(model: .plif, surrogate: .rectangle, tau: 4, vThreshold: 0.8, vReset: -0.1))
        let (T, M) = (6, 64)
        var worst: (grad: Double, decay: Double) = (0, 0)
        for config in configs {
            let k = Self.decay(config)
            let input = generator.array(T * M, -1, 2)
            let gradSpikes = generator.array(T * M, -1, 1)
            let saved = Self.runForward(fast: false, input: input, T: T, M: M, columns: 0..<M, config: config, decay: k)
            let reference = Self.runBackward(fast: false, gradSpikes: gradSpikes, charged: saved.charged,
                                             memory: saved.memory, T: T, M: M, columns: 0..<M, config: config, decay: k)
            var used = 0
            var maxGrad = 1.0
            var maxDifference = 0.0
            var errorDecay = 0.0
            var sumOfColumns = 0.0
            for j in 0..<M {
                let x = (0..<T).map { Double(input[$0 * M + j]) }
                let g = (0..<T).map { Double(gradSpikes[$0 * M + j]) }
                // One column per call: its dL/dk on its own.
                let column = Self.runBackward(fast: false, gradSpikes: gradSpikes, charged: saved.charged,
                                              memory: saved.memory, T: T, M: M, columns: j..<(j + 1), config: config, decay: k)
                sumOfColumns += Double(column.decay)
                let constantK = Dual(Double(k))
                let plain = Self.dualLoss(x: x.map { Dual($0) }, k: constantK, gradSpikes: g, config: config)
                // Float and Double may disagree on which side of a jump z lies: skip such columns.
                guard plain.margin > 1e-4 else { continue }
                used += 1
                for t in 0..<T {
                    var seeded = x.map { Dual($0) }
                    seeded[t].tangent = 1
                    let derivative = Self.dualLoss(x: seeded, k: constantK, gradSpikes: g, config: config).loss.tangent
                    XCTAssertEqual(column.grad[t * M + j], reference.grad[t * M + j], "\(config): column call differs")
                    maxDifference = max(maxDifference, abs(derivative - Double(reference.grad[t * M + j])))
                    maxGrad = max(maxGrad, abs(derivative))
                }
                let decayDerivative = Self.dualLoss(x: x.map { Dual($0) }, k: Dual(Double(k), 1), gradSpikes: g,
                                                    config: config).loss.tangent
                errorDecay = max(errorDecay, abs(decayDerivative - Double(column.decay)) / max(1, abs(decayDerivative)))
            }
            let label = "\(config)"
            XCTAssertGreaterThan(used, M * 3 / 4, "\(label): only \(used) of \(M) columns usable")
            let errorGrad = maxDifference / maxGrad
            XCTAssertLessThanOrEqual(errorGrad, 1e-5, "\(label): dL/dx max relative difference \(errorGrad)")
            XCTAssertLessThanOrEqual(errorDecay, 1e-5, "\(label): per-column dL/dk max relative difference \(errorDecay)")
            let errorSum = abs(sumOfColumns - Double(reference.decay)) / max(1, abs(sumOfColumns))
            XCTAssertLessThanOrEqual(errorSum, 1e-5, "\(label): dL/dk over all columns \(reference.decay) vs Σ columns \(sumOfColumns)")
            worst = (max(worst.grad, errorGrad), max(worst.decay, errorDecay))
        }
        print("reference backward vs forward mode: max relative difference dL/dx \(worst.grad), dL/dk \(worst.decay)")
    }

    /// Hand-checked values: one LIF step and one CLIF step, so that a shared misreading of
    /// docs/neurons.md by both kernels cannot pass unnoticed.
    func testHandComputedSteps() {
        // LIF, soft reset, k = 0.5: x = [1.2, 0.3] → h0 = 1.2 fires, v0 = 0.2;
        // h1 = 0.1 + 0.3 = 0.4, no spike.
        let lif = NeuronConfig(model: .lif, surrogate: .rectangle)
        for fast in [true, false] {
            let out = Self.runForward(fast: fast, input: [1.2, 0.3], T: 2, M: 1, columns: 0..<1, config: lif, decay: 0.5)
            XCTAssertEqual(out.spikes, [1, 0])
            XCTAssertEqual(out.charged[0], 1.2, accuracy: 1e-6)
            XCTAssertEqual(out.charged[1], 0.4, accuracy: 1e-6)
        }
        // CLIF, soft, k = 0.5, tau = 2: x = [1, 1]. t0: h = 1 fires (H(0) = 1), m = 0·σ(0.5) + 1 = 1,
        // v = 1 - 1 - σ(1) = -0.7310586. t1: h = -0.3655293 + 1 = 0.6344707, m = σ(0.31723535) = 0.5786,
        // no spike.
        let clif = NeuronConfig(model: .clif, surrogate: .rectangle)
        for fast in [true, false] {
            let out = Self.runForward(fast: fast, input: [1, 1], T: 2, M: 1, columns: 0..<1, config: clif, decay: 0.5)
            XCTAssertEqual(out.spikes, [1, 0])
            XCTAssertEqual(out.charged[1], 0.6344707, accuracy: 1e-6)
            XCTAssertEqual(out.memory[0], 1, accuracy: 1e-6)
            XCTAssertEqual(out.memory[1], 0.578652, accuracy: 1e-5)
            // Backward with dL/ds = [0, 1]. t1: s1 = 0 and z1 = -0.3655 is inside the rectangle, so
            // dL/dx1 = 1 and dL/dv0 = 1 - k = 0.5. t0: s0 = 1, m0 = 1, v0 = h0 - s0·1 - s0·σ(m0) with
            // m0 = m_f + s0, so dv0/ds0 = -1 - σ(1) - σ'(1), dv0/dh0 = 1 directly and ds0/dh0 = 1
            // (z0 = 0): dL/dx0 = 0.5·(1 - 1 - σ(1) - σ'(1)).
            let s1 = 1 / (1 + Foundation.exp(-1.0))
            let expected = Float(-0.5 * (s1 + s1 * (1 - s1)))
            let grad = Self.runBackward(fast: fast, gradSpikes: [0, 1], charged: out.charged, memory: out.memory,
                                        T: 2, M: 1, columns: 0..<1, config: clif, decay: 0.5)
            XCTAssertEqual(grad.grad[1], 1, accuracy: 1e-6)
            XCTAssertEqual(grad.grad[0], expected, accuracy: 1e-6)
            // dL/dk = dL/dh1·(0 - v0) + dL/dh0·(0 - 0) = 0.7310586
            XCTAssertEqual(grad.decay, Float(s1), accuracy: 1e-6)
        }
    }

    func testEmptyCallsDoNothing() {
        let config = NeuronConfig(model: .clif, surrogate: .sigmoid)
        let out = Self.runForward(fast: true, input: [Float](repeating: 1, count: 12), T: 3, M: 4, columns: 2..<2,
                                  config: config, decay: 0.5)
        XCTAssertTrue(out.charged.allSatisfy { $0 == Self.sentinel })
        let grad = Self.runBackward(fast: true, gradSpikes: [Float](repeating: 1, count: 12), charged: out.charged,
                                    memory: out.memory, T: 3, M: 4, columns: 1..<1, config: config, decay: 0.5)
        XCTAssertEqual(grad.decay, 0)
        XCTAssertTrue(grad.grad.allSatisfy { $0 == Self.sentinel })
        let none = Self.runBackward(fast: true, gradSpikes: [], charged: [], memory: [], T: 0, M: 4, columns: 0..<4,
                                    config: config, decay: 0.5)
        XCTAssertEqual(none.decay, 0)
    }
}
