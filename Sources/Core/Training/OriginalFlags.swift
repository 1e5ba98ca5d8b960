/// The flags the original's train.py and inference.py share, under the same
/// names and with the same defaults, as the engine reads them;
/// `TrainingFlags` and `InferenceFlags` add each script's own.
public protocol OriginalFlags {
    var seed: UInt64 { get }
    var b: Int { get }
    var j: Int { get }
    var name: String { get }
    var outDir: String { get }
    var surrogate: Surrogate { get }
    var preTrain: String? { get }
    var amp: Bool { get }
    var dropRate: Float { get }
    var weightDecay: Float { get }
    var lossLambda: Float { get }
    var mseNReg: Bool { get }
    var lossMeans: Float { get }
    var saveInit: Bool { get }
    var cutupmixAuto: Bool { get }
    var labelSmoothing: Float { get }
}

extension OriginalFlags {
    /// The loss `-loss_lambda`, `-loss_means`, `-mse_n_reg` and `-label_smoothing` give.
    public var lossConfig: LossConfig {
        LossConfig(lambda: lossLambda, lossMeans: lossMeans, mseOneHot: mseNReg, labelSmoothing: labelSmoothing)
    }
}
