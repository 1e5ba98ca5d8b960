// Legend (per layer, per inference of one sample over T time steps):
//   N_in  input values  (C_in·H_in·W_in, or the in-features of a linear layer)
//   N_out output values (C_out·H_out·W_out, or the out-features)
//   F     fan-out of one input value: the weights one input spike is
//         accumulated with, C_out·k_h·k_w·(H_out·W_out)/(H_in·W_in) for a
//         convolution (= C_out·k_h·k_w for a stride-1 "same" convolution) and
//         N_out for a linear layer
//   S_in  input spikes  = T·N_in·fr_in (N_in for a static analog input,
//         fr_in = 1: computed once and reused at every step)
//   S_out output spikes = T·N_out·fr_out
//   c     membrane-update factor: 1 for LIF, 3 for CLIF
//   r, w  potential read / write factors: 1, 1 for LIF; 4, 2 for CLIF
//   a     addressing factor: 1 for LIF, 2 for CLIF

/// The paper's energy estimate (CLIF, ICML 2024, after Lemaire et al. 2022,
/// "An analytical estimation of spiking neural networks energy efficiency"):
/// operation, memory and addressing counts of each synaptic (convolution or
/// linear) layer from its input and output firing rates, priced in pJ.
///
/// The counts follow the terms of the CLIF authors' public energy script,
/// made consistent (see the README, "Energy estimate"):
/// - spike counts cover all T steps (the script counts one step's spikes
///   but T steps of leak, and multiplies the ANN by T);
/// - a linear layer accumulates `S_in·N_out` weights (the script has
///   `S_in·N_in·N_out`), and its membrane, bias and memory terms use the
///   convolution's form;
/// - a strided convolution's fan-out is the exact average
///   `C_out·k_h·k_w·P_out/P_in` (the script uses `⌊k/stride⌋²·C_out` for
///   operations and `k²·C_out` for memory);
/// - the static analog input of the first layer (fr = 1, as in the script)
///   is accumulated once and reused at every step, as clif-mpi computes it;
/// - an SRAM access is priced by the size of the memory it reads
///   (`sramAccessEnergy`), not by the number of accesses.
public enum EnergyModel {
    /// Energy of one addition (pJ).
    public static let addEnergy = 0.1
    /// Energy of one multiplication (pJ).
    public static let multiplyEnergy = 3.1
    /// Energy of one multiply-accumulate, `multiplyEnergy + addEnergy` (pJ).
    public static var macEnergy: Double { multiplyEnergy + addEnergy }
    /// Bytes of one stored value (fp32 weights, potentials, activations).
    public static let bytesPerValue = 4.0

    /// What computes a layer's outputs.
    public enum Neuron: String, Sendable, CaseIterable {
        /// A ReLU network: dense multiply-accumulates, evaluated once (no time steps).
        case ann = "ANN"
        /// Leaky integrate-and-fire (also PLIF, whose leak costs the same).
        case lif = "LIF"
        /// Complementary LIF: the memory `m` triples the membrane update.
        case clif = "CLIF"

        /// `c`: membrane-update operations per neuron update, relative to LIF.
        var updateFactor: Double { self == .clif ? 3 : 1 }
        /// `r`: potential reads per synaptic event (v, m and their sigmoids).
        var potentialReads: Double { self == .clif ? 4 : 1 }
        /// `w`: potential writes per synaptic event (v and m).
        var potentialWrites: Double { self == .clif ? 2 : 1 }
        /// `a`: addressing per input spike (two state arrays for CLIF).
        var addressingFactor: Double { self == .clif ? 2 : 1 }
    }

    /// Shape of a synaptic layer, per sample.
    public enum Shape: Sendable, Equatable {
        case convolution(inChannels: Int, inHeight: Int, inWidth: Int,
                         outChannels: Int, outHeight: Int, outWidth: Int, kernelHeight: Int, kernelWidth: Int)
        case linear(inFeatures: Int, outFeatures: Int)
    }

    /// A convolution or linear layer as the estimate sees it.
    public struct Layer: Sendable, Equatable {
        public var name: String
        public var shape: Shape
        /// Weights and biases.
        public var parameterCount: Int

        public init(name: String, shape: Shape, parameterCount: Int) {
            self.name = name; self.shape = shape; self.parameterCount = parameterCount
        }

        /// `N_in`.
        public var inputCount: Double {
            switch shape {
            case let .convolution(c, h, w, _, _, _, _, _): return Double(c * h * w)
            case let .linear(i, _): return Double(i)
            }
        }

        /// `N_out`.
        public var outputCount: Double {
            switch shape {
            case let .convolution(_, _, _, o, h, w, _, _): return Double(o * h * w)
            case let .linear(_, o): return Double(o)
            }
        }

        /// `F`: weights one input value is multiplied or accumulated with,
        /// averaged over the input positions; `N_in·F` is the ANN's MAC count.
        public var fanOut: Double {
            switch shape {
            case let .convolution(_, ih, iw, o, oh, ow, kh, kw):
                return Double(o * kh * kw) * Double(oh * ow) / Double(ih * iw)
            case let .linear(_, o): return Double(o)
            }
        }

        /// Multiply-accumulates of a dense evaluation: `N_out·C_in·k_h·k_w`, or `N_in·N_out`.
        public var denseMACs: Double {
            switch shape {
            case let .convolution(c, _, _, o, oh, ow, kh, kw): return Double(o * oh * ow * c * kh * kw)
            case let .linear(i, o): return Double(i * o)
            }
        }

        var isConvolution: Bool { if case .convolution = shape { return true } else { return false } }
    }

    /// Operation and memory-access counts of one layer for one sample.
    public struct Counts: Sendable, Equatable {
        /// Synaptic operations: multiply-accumulates and accumulates (additions).
        public var macOperations = 0.0, accOperations = 0.0
        /// Memory reads of inputs and parameters, reads and writes of
        /// membrane potentials, writes of outputs.
        public var inputReads = 0.0, parameterReads = 0.0, potentialReads = 0.0
        public var outputWrites = 0.0, potentialWrites = 0.0
        /// Address computations: multiply-accumulates and additions.
        public var macAddressing = 0.0, accAddressing = 0.0

        public init() {}
    }

    /// The counts of `layer` run by `neuron` over `timeSteps` steps with input
    /// firing rate `inputRate` (spikes per input value and step; 1 for the
    /// analog input of the first layer) and output firing rate `outputRate`
    /// (of the neurons the layer drives; 0 for the classifier). With
    /// `staticInput` (a network input that is the same at every step) the
    /// layer's input is accumulated once: `S_in = N_in·fr_in`.
    ///
    /// ANN (evaluated once): MAC = `N_in·F`, ACC = `N_out` (bias); reads of
    /// inputs `N_in·F` for a convolution (one per MAC) or `N_in` for a
    /// linear layer, of parameters `N_in·F + N_out`; writes `N_out`;
    /// addressing ACC = `N_in + N_out + C_out·k_h·k_w` (convolution) or
    /// `N_in + N_out`.
    ///
    /// LIF / CLIF: MAC = `c·T·N_out` (leak); ACC = `S_in·F` (weights)
    /// + `T·N_out` (bias) + `c·S_out` (reset); reads of inputs `S_in`, of
    /// parameters `S_in·F + T·N_out`, of potentials `r·(S_in·F + T·N_out)`;
    /// writes of outputs `S_out`, of potentials `w·(S_in·F + T·N_out)`;
    /// addressing MAC = `2a·S_in` (convolution: the output window of a
    /// spike) or 0, ACC = `a·S_in·F`.
    public static func counts(_ layer: Layer, neuron: Neuron, timeSteps: Int,
                              inputRate: Double, outputRate: Double, staticInput: Bool = false) -> Counts {
        var n = Counts()
        let inputs = layer.inputCount, outputs = layer.outputCount, fanOut = layer.fanOut
        switch neuron {
        case .ann:
            n.macOperations = inputs * fanOut
            n.accOperations = outputs
            n.inputReads = layer.isConvolution ? inputs * fanOut : inputs
            n.parameterReads = inputs * fanOut + outputs
            n.outputWrites = outputs
            if case let .convolution(_, _, _, o, _, _, kh, kw) = layer.shape {
                n.accAddressing = inputs + outputs + Double(o * kh * kw)
            } else {
                n.accAddressing = inputs + outputs
            }
        case .lif, .clif:
            let t = Double(timeSteps)
            let spikesIn = (staticInput ? 1 : t) * inputs * inputRate, spikesOut = t * outputs * outputRate
            let synapticEvents = spikesIn * fanOut + t * outputs
            n.macOperations = neuron.updateFactor * t * outputs
            n.accOperations = spikesIn * fanOut + t * outputs + neuron.updateFactor * spikesOut
            n.inputReads = spikesIn
            n.parameterReads = synapticEvents
            n.potentialReads = neuron.potentialReads * synapticEvents
            n.outputWrites = spikesOut
            n.potentialWrites = neuron.potentialWrites * synapticEvents
            n.macAddressing = layer.isConvolution ? 2 * neuron.addressingFactor * spikesIn : 0
            n.accAddressing = neuron.addressingFactor * spikesIn * fanOut
        }
        return n
    }

    /// Energy of an SRAM access (read or write, pJ) to a memory of `bytes`:
    /// the line through (0, 0), (8 kB, 10 pJ), (32 kB, 20 pJ), (1 MB, 100 pJ),
    /// 100 pJ beyond 1 MB (as the public script caps it).
    public static func sramAccessEnergy(bytes: Double) -> Double {
        let points: [(Double, Double)] = [(0, 0), (8 * 1024, 10), (32 * 1024, 20), (1024 * 1024, 100)]
        guard bytes > 0 else { return 0 }
        for i in 1..<points.count where bytes <= points[i].0 {
            let (x0, y0) = points[i - 1], (x1, y1) = points[i]
            return y0 + (y1 - y0) * (bytes - x0) / (x1 - x0)
        }
        return 100
    }

    /// Energy of one layer, split as the paper reports it (pJ).
    public struct Energy: Sendable, Equatable {
        public var operations = 0.0, addressing = 0.0
        /// Input reads and output writes.
        public var inputsOutputs = 0.0
        public var parameters = 0.0
        public var potentials = 0.0

        public init() {}

        public var memory: Double { inputsOutputs + parameters + potentials }
        public var total: Double { operations + addressing + memory }

        public static func + (a: Energy, b: Energy) -> Energy {
            var s = a
            s.operations += b.operations; s.addressing += b.addressing
            s.inputsOutputs += b.inputsOutputs; s.parameters += b.parameters; s.potentials += b.potentials
            return s
        }
    }

    /// Prices `counts` of `layer`: operations and addressing as
    /// `ACC·E_add + MAC·E_mac`; each memory access at `sramAccessEnergy` of
    /// the memory it touches — inputs `N_in`, outputs `N_out`, parameters
    /// `parameterCount` and potentials `N_out` values (2·`N_out` for CLIF's
    /// `v` and `m`), `bytesPerValue` bytes each.
    public static func energy(_ counts: Counts, of layer: Layer, neuron: Neuron) -> Energy {
        var e = Energy()
        e.operations = counts.accOperations * addEnergy + counts.macOperations * macEnergy
        e.addressing = counts.accAddressing * addEnergy + counts.macAddressing * macEnergy
        let inputMemory = sramAccessEnergy(bytes: layer.inputCount * bytesPerValue)
        let outputMemory = sramAccessEnergy(bytes: layer.outputCount * bytesPerValue)
        let parameterMemory = sramAccessEnergy(bytes: Double(layer.parameterCount) * bytesPerValue)
        let states = neuron == .clif ? 2.0 : 1.0
        let potentialMemory = sramAccessEnergy(bytes: states * layer.outputCount * bytesPerValue)
        e.inputsOutputs = counts.inputReads * inputMemory + counts.outputWrites * outputMemory
        e.parameters = counts.parameterReads * parameterMemory
        e.potentials = (counts.potentialReads + counts.potentialWrites) * potentialMemory
        return e
    }

    /// `counts` then `energy` of one layer.
    public static func energy(_ layer: Layer, neuron: Neuron, timeSteps: Int,
                              inputRate: Double, outputRate: Double, staticInput: Bool = false) -> Energy {
        energy(counts(layer, neuron: neuron, timeSteps: timeSteps, inputRate: inputRate, outputRate: outputRate,
                      staticInput: staticInput), of: layer, neuron: neuron)
    }
}
