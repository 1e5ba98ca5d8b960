// Neuron model, surrogate gradient and constants (docs/neurons.md).

/// The spiking neuron of a layer (flag `-neuron_model`).
public enum NeuronModel: String, CaseIterable, Sendable {
    /// Leaky integrate-and-fire: charge, fire, reset.
    case lif = "LIF"
    /// Complementary LIF: LIF plus the complementary memory `m` and its extra reset `s·sigmoid(m)`.
    case clif = "CLIF"
    /// Parametric LIF: LIF with a learnable decay `k = sigmoid(w)`, one scalar `w` per layer.
    case plif = "PLIF"
}

/// The surrogate for the derivative of the Heaviside step H (flag `-surrogate`), with `z = h - v_th`.
public enum Surrogate: String, CaseIterable, Sendable {
    /// `dH/dz = 1/alpha` if `|z| <= alpha/2`, else 0.
    case rectangle
    /// spikingjelly `Sigmoid`: `dH/dz = alpha·sg·(1 - sg)`, `sg = sigmoid(alpha·z)`.
    case sigmoid
    /// spikingjelly `PiecewiseQuadratic`: `dH/dz = alpha - alpha²·|z|` if `|z| <= 1/alpha`, else 0.
    case triangle

    /// alpha: rectangle 1, sigmoid 4, triangle 1 (docs/neurons.md)
    public var alpha: Float {
        switch self {
        case .rectangle: return 1
        case .sigmoid: return 4
        case .triangle: return 1
        }
    }

    /// The half-width of the surrogate's support: `dH/dz` is zero wherever
    /// `|z| > supportHalfWidth` (rectangle alpha/2, triangle 1/alpha); nil
    /// for the sigmoid, which has no zero region. The kernels test
    /// `|z| <= supportHalfWidth` with these very values.
    public var supportHalfWidth: Float? {
        switch self {
        case .rectangle: return alpha / 2
        case .sigmoid: return nil
        case .triangle: return 1 / alpha
        }
    }
}

/// Constants of one neuron layer. The decay `k` is passed separately to the kernels: `k = 1/tau`
/// for LIF and CLIF; for PLIF the caller passes `sigmoid(w)`.
public struct NeuronConfig: Sendable, Equatable {
    public var model: NeuronModel
    public var surrogate: Surrogate
    /// Membrane time constant; CLIF's forming step `m = m·sigmoid(h/tau)` uses it for every model.
    public var tau: Float = 2
    public var vThreshold: Float = 1
    /// Hard-reset value; `nil` = soft reset (`v -= s·v_th`), as in training.
    public var vReset: Float? = nil

    /// - Parameters:
    ///   - model: LIF, CLIF or PLIF.
    ///   - surrogate: surrogate gradient of the spike function.
    ///   - tau: time constant (default 2).
    ///   - vThreshold: firing threshold v_th (default 1).
    ///   - vReset: hard-reset value, or `nil` for soft reset (default).
    public init(model: NeuronModel, surrogate: Surrogate, tau: Float = 2, vThreshold: Float = 1,
                vReset: Float? = nil) {
        self.model = model
        self.surrogate = surrogate
        self.tau = tau
        self.vThreshold = vThreshold
        self.vReset = vReset
    }
}
