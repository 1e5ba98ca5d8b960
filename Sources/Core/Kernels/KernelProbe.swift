import Foundation

// A fingerprint of the bits this process's numerical kernels compute. The ranks of a job compare
// theirs at start-up: "same bits as one process" holds only when every rank computes every
// kernel bit for bit alike, and OpenBLAS (which picks its sgemm kernel for the CPU it finds),
// libm and the compiled -target-cpu can each make one host differ from another.
//
// What it runs, on fixed inputs drawn from `RandomStream(seed:)` (integer draws scaled exactly
// into fp32, so the inputs themselves depend on no math library):
//   - sgemm through `Gemm` in the three im2col products of a 3×3 convolution, C → O channels
//     over P output pixels (K = 9·C):
//       forward          Y[O, P]   = W[O, K] · col[K, P]
//       weight gradient  dWᵀ[K, O] += col[K, P] · dY[O, P]ᵀ     (β = 1: the accumulating path)
//       input gradient   dcol[K, P] = W[O, K]ᵀ · dY[O, P]
//     at C → O, P = 3 → 16, 49; 32 → 64, 81; 128 → 128, 121; 256 → 256, 25. Odd P; K up to 2,304
//     reaches past OpenBLAS's k-blocking, so the micro-kernel and the blocking both show;
//   - FastMath exp and sigmoid, vector (a 1,027-element map: SIMD body and tail) and scalar,
//     over [-110, 95] and ±0, ±inf, NaN;
//   - libm (Foundation) exp and log in Float and Double and cos in Double, which the loss,
//     PLIF's decay and the random normal draws use;
//   - NeuronKernels forward and backward of every neuron model × surrogate × reset (soft, hard
//     to 0, hard to -0.1), T = 4 over 523 columns (one full 512-column chunk and a partial one).
// Everything runs on the calling thread with OpenBLAS on one thread, as training does.
//
// Cost, measured by `KernelProbeTests.testProbeIsCheap` (debug build, which the package compiles
// with -O; a 2-core machine shared with other builds; OpenBLAS on its Prescott kernel): 24 ms
// best of 3, 26 ms the first time, most of it the 200 MFLOP of sgemm.

/// A hash of the output bits of a fixed run of the numerical kernels (details at the top of the file).
public enum KernelProbe {
    /// The seed of the probe's inputs every rank uses.
    public static let seed: UInt64 = 0x636C_6966_7072_6F62

    /// 64-bit FNV-1a hash of the bit pattern of every output of the probe, on inputs drawn from `seed`.
    ///
    /// Pins OpenBLAS to one thread (as `Parallel.configure` does): a multi-threaded sgemm's bits
    /// depend on its thread count.
    public static func fingerprint(seed: UInt64 = KernelProbe.seed) -> UInt64 {
        Gemm.setThreads(1)
        var hash = BitHash()
        var stream = RandomStream(seed: seed)
        for (c, o, p) in [(3, 16, 49), (32, 64, 81), (128, 128, 121), (256, 256, 25)] {
            convolutionProducts(channels: c, outChannels: o, pixels: p, stream: &stream, into: &hash)
        }
        fastMath(stream: &stream, into: &hash)
        mathLibrary(stream: &stream, into: &hash)
        neurons(stream: &stream, into: &hash)
        return hash.value
    }

    // W[O, K], col[K, P], dY[O, P] in; Y[O, P], dWᵀ[K, O], dcol[K, P] hashed.
    private static func convolutionProducts(channels: Int, outChannels o: Int, pixels p: Int,
                                            stream: inout RandomStream, into hash: inout BitHash) {
        let k = 9 * channels
        let w = draw(o * k, -0.5, 0.5, &stream), col = draw(k * p, -1, 1, &stream)
        let gradY = draw(o * p, -1, 1, &stream)
        var y = [Float](repeating: 0, count: o * p)
        var gradWT = draw(k * o, -0.1, 0.1, &stream)
        var gradCol = [Float](repeating: 0, count: k * p)
        Gemm.sgemm(m: o, n: p, k: k, a: w, lda: k, b: col, ldb: p, c: &y, ldc: p)
        Gemm.sgemm(transB: true, m: k, n: o, k: p, a: col, lda: p, b: gradY, ldb: p, beta: 1, c: &gradWT, ldc: o)
        Gemm.sgemm(transA: true, m: k, n: p, k: o, a: w, lda: k, b: gradY, ldb: p, c: &gradCol, ldc: p)
        hash.add(y)
        hash.add(gradWT)
        hash.add(gradCol)
    }

    private static func fastMath(stream: inout RandomStream, into hash: inout BitHash) {
        let specials: [Float] = [0, -0, .infinity, -.infinity, .nan, 88.72, -87.34, -103.97]
        let x = specials + draw(1027 - specials.count, -110, 95, &stream)
        var out = [Float](repeating: 0, count: x.count)
        FastMath.exp(&out, x, count: x.count)
        hash.add(out)
        FastMath.sigmoid(&out, x, count: x.count)
        hash.add(out)
        hash.add(x.map { FastMath.exp($0) })
        hash.add(x.map { FastMath.sigmoid($0) })
    }

    private static func mathLibrary(stream: inout RandomStream, into hash: inout BitHash) {
        let logits = draw(256, -30, 30, &stream)
        let positive = draw(256, 1e-6, 1e3, &stream)
        hash.add(logits.map { Foundation.exp($0) })
        hash.add(positive.map { Foundation.log($0) })
        for (a, b) in zip(logits, positive) {
            hash.add(Foundation.exp(Double(a)))
            hash.add(Foundation.log(Double(b)))
            hash.add(Foundation.cos(Double(a)))
        }
    }

    private static func neurons(stream: inout RandomStream, into hash: inout BitHash) {
        let T = 4, M = 523
        let input = draw(T * M, -0.5, 1.6, &stream), gradSpikes = draw(T * M, -1, 1, &stream)
        var spikes = [Float](repeating: 0, count: T * M), charged = spikes, memory = spikes, gradInput = spikes
        for model in NeuronModel.allCases {
            for surrogate in Surrogate.allCases {
                for reset in [nil, 0, -0.1] as [Float?] {
                    let config = NeuronConfig(model: model, surrogate: surrogate, tau: 2, vReset: reset)
                    let decay: Float = model == .plif ? 0.4378 : 1 / config.tau
                    spikes.withUnsafeMutableBufferPointer { s in
                        charged.withUnsafeMutableBufferPointer { h in
                            memory.withUnsafeMutableBufferPointer { m in
                                gradInput.withUnsafeMutableBufferPointer { dx in
                                    NeuronKernels.forward(spikes: s.baseAddress!, charged: h.baseAddress!,
                                                          memory: m.baseAddress!, input: input, timeSteps: T,
                                                          width: M, columns: 0..<M, config: config, decay: decay)
                                    let gradDecay = NeuronKernels.backward(
                                        gradInput: dx.baseAddress!, gradSpikes: gradSpikes, charged: h.baseAddress!,
                                        memory: m.baseAddress!, timeSteps: T, width: M, columns: 0..<M,
                                        config: config, decay: decay)
                                    hash.add(gradDecay)
                                }
                            }
                        }
                    }
                    hash.add(spikes)
                    hash.add(charged)
                    if model == .clif { hash.add(memory) }
                    hash.add(gradInput)
                }
            }
        }
    }

    /// `count` values uniform in [low, high): 24-bit integer draws, so exact in fp32.
    private static func draw(_ count: Int, _ low: Float, _ high: Float, _ stream: inout RandomStream) -> [Float] {
        (0..<count).map { _ in stream.uniform(low, high) }
    }
}

/// FNV-1a over bit patterns, one value at a time.
private struct BitHash {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ bits: UInt64) {
        value = (value ^ bits) &* 0x0000_0100_0000_01B3
    }

    mutating func add(_ x: Float) { add(UInt64(x.bitPattern)) }
    mutating func add(_ x: Double) { add(x.bitPattern) }
    mutating func add(_ values: [Float]) {
        for x in values { add(x) }
    }
}
