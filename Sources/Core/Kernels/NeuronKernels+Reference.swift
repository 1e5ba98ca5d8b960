// Plain scalar reference versions of the neuron kernels: docs/neurons.md written out step by step.
// The fast kernels (NeuronKernels.swift) are tested against these; the derivation of the backward
// is at the top of that file. Layout [T, M] row-major, element (t, j) at t·M + j.

import Foundation

extension NeuronKernels {
    /// Reference forward: same contract as `forward`, scalar loops, Foundation's `exp`.
    public static func referenceForward(spikes: UnsafeMutablePointer<Float>,
                                        charged: UnsafeMutablePointer<Float>,
                                        memory: UnsafeMutablePointer<Float>?,
                                        input: UnsafePointer<Float>,
                                        timeSteps: Int, width: Int, columns: Range<Int>,
                                        config: NeuronConfig, decay: Float) {
        validate(timeSteps: timeSteps, width: width, columns: columns, config: config,
                 decay: decay, hasMemory: memory != nil)
        let k = decay
        let threshold = config.vThreshold
        let resetValue = config.vReset ?? 0
        let isCLIF = config.model == .clif
        for j in columns {
            var v: Float = resetValue   // 0 for soft reset
            var m: Float = 0
            for t in 0..<timeSteps {
                let i = t * width + j
                let x = input[i]
                // 1. charge (spikingjelly spells the v_reset = 0 case as v·(1-k) + x)
                let h = resetValue == 0 ? v * (1 - k) + x : v - (v - resetValue) * k + x
                charged[i] = h
                // 2. CLIF forming, constant tau
                if isCLIF { m = m * referenceSigmoid(h / config.tau) }
                // 3. fire, H(0) = 1
                let s: Float = h >= threshold ? 1 : 0
                spikes[i] = s
                // 4. CLIF strengthen
                if isCLIF {
                    m = m + s
                    memory![i] = m
                }
                // 5. reset
                v = config.vReset == nil ? h - s * threshold : (1 - s) * h + s * resetValue
                // 6. CLIF complementary reset
                if isCLIF { v = v - s * referenceSigmoid(m) }
            }
        }
    }

    /// Reference backward: same contract as `backward`, scalar loops, Foundation's `exp`.
    /// Per column the state before step t is rebuilt from h_{t-1}, s_{t-1} and m_{t-1}.
    public static func referenceBackward(gradInput: UnsafeMutablePointer<Float>,
                                         gradSpikes: UnsafePointer<Float>,
                                         charged: UnsafePointer<Float>,
                                         memory: UnsafePointer<Float>?,
                                         timeSteps: Int, width: Int, columns: Range<Int>,
                                         config: NeuronConfig, decay: Float) -> Float {
        validate(timeSteps: timeSteps, width: width, columns: columns, config: config,
                 decay: decay, hasMemory: memory != nil)
        var gradDecay: Double = 0
        for j in columns {
            referenceBackward(column: j, gradInput: gradInput, gradSpikes: gradSpikes, charged: charged, memory: memory,
                              timeSteps: timeSteps, width: width, config: config, decay: decay, gradDecay: &gradDecay)
        }
        return Float(gradDecay)
    }

    /// Membrane after the full step at `i` (steps 5 and 6), from the saved h_t and m_t.
    static func referenceMembraneAfterStep(_ i: Int, charged: UnsafePointer<Float>, memory: UnsafePointer<Float>?,
                                           config: NeuronConfig) -> Float {
        let h = charged[i]
        let s: Float = h >= config.vThreshold ? 1 : 0
        var v = config.vReset.map { (1 - s) * h + s * $0 } ?? h - s * config.vThreshold
        if config.model == .clif { v = v - s * referenceSigmoid(memory![i]) }
        return v
    }

    /// One column of `referenceBackward`, t = T−1 down to 0, adding its dL/dk terms to `gradDecay` in that order.
    static func referenceBackward(column j: Int, gradInput: UnsafeMutablePointer<Float>, gradSpikes: UnsafePointer<Float>,
                                  charged: UnsafePointer<Float>, memory: UnsafePointer<Float>?,
                                  timeSteps: Int, width: Int, config: NeuronConfig, decay k: Float, gradDecay: inout Double) {
        let threshold = config.vThreshold
        let resetValue = config.vReset ?? 0
        let isCLIF = config.model == .clif
        var gradV: Float = 0   // dL/dv_t, membrane after step t
        var gradM: Float = 0   // dL/dm_t, memory after step t
        for t in stride(from: timeSteps - 1, through: 0, by: -1) {
            let i = t * width + j
            let h = charged[i]
            let s: Float = h >= threshold ? 1 : 0
            let vPrevious = t > 0 ? referenceMembraneAfterStep(i - width, charged: charged, memory: memory, config: config)
                                  : resetValue
            let mPrevious = t > 0 && isCLIF ? memory![i - width] : 0

            var gradS = gradSpikes[i]
            var gradMNow = gradM
            // 6. v = v' - s·σ(m_t)
            if isCLIF {
                let sm = referenceSigmoid(memory![i])
                gradS -= gradV * sm
                gradMNow -= gradV * s * sm * (1 - sm)
            }
            // 5. soft v' = h - s·v_th; hard v' = (1-s)·h + s·v_r
            var gradH: Float
            if config.vReset != nil {
                gradH = gradV * (1 - s)
                gradS += gradV * (resetValue - h)
            } else {
                gradH = gradV
                gradS -= gradV * threshold
            }
            // 4. m_t = m_f + s
            if isCLIF { gradS += gradMNow }
            // 3. s = H(h - v_th), surrogate derivative
            gradH += gradS * referenceSurrogateGradient(config.surrogate, h - threshold)
            // 2. m_f = m_{t-1}·σ(h/tau)
            if isCLIF {
                let a = referenceSigmoid(h / config.tau)
                gradH += gradMNow * mPrevious * a * (1 - a) / config.tau
                gradM = gradMNow * a
            }
            // 1. h = v_{t-1} - (v_{t-1} - v_r)·k + x
            gradInput[i] = gradH
            gradV = gradH * (1 - k)
            gradDecay += Double(gradH * (resetValue - vPrevious))
        }
    }

    static func referenceSigmoid(_ x: Float) -> Float {
        1 / (1 + Foundation.exp(-x))
    }

    /// dH/dz under the surrogate convention, z = h - v_th (docs/neurons.md).
    static func referenceSurrogateGradient(_ surrogate: Surrogate, _ z: Float) -> Float {
        let alpha = surrogate.alpha
        switch surrogate {
        case .rectangle:
            return abs(z) <= alpha / 2 ? 1 / alpha : 0
        case .sigmoid:
            let sg = referenceSigmoid(alpha * z)
            return alpha * sg * (1 - sg)
        case .triangle:
            return abs(z) <= 1 / alpha ? alpha - alpha * alpha * abs(z) : 0
        }
    }
}
