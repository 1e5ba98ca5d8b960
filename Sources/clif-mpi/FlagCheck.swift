import ArgumentParser

/// Range checks the commands' `validate()` share: each failure names the
/// flag, what it needs and the value given.
enum FlagCheck {
    /// `value`, when given, must be above zero (NaN is not).
    static func positive<Value: Numeric & Comparable>(_ value: Value?, _ flag: String) throws {
        if let value, !(value > 0) { throw ValidationError("\(flag) must be positive, got \(value)") }
    }

    /// `value` must be zero or above (NaN is not).
    static func notNegative<Value: Numeric & Comparable>(_ value: Value, _ flag: String) throws {
        if !(value >= 0) { throw ValidationError("\(flag) must not be negative, got \(value)") }
    }

    /// `-tau`, when given.
    static func tau(_ tau: Float?) throws {
        if let tau, !(tau > 1) { throw ValidationError("-tau must be above 1 (PLIF starts at w = −ln(tau − 1)), got \(tau)") }
    }

    /// `-drop_rate`, `-loss_lambda`, `-label_smoothing` and `-weight_decay`, as train and infer take them.
    static func modelAndLoss(dropRate: Float, lossLambda: Float, labelSmoothing: Float, weightDecay: Float) throws {
        guard (0..<1).contains(dropRate) else { throw ValidationError("-drop_rate must be in [0, 1), got \(dropRate)") }
        guard (0...1).contains(lossLambda) else { throw ValidationError("-loss_lambda must be in [0, 1], got \(lossLambda)") }
        guard (0..<1).contains(labelSmoothing) else { throw ValidationError("-label_smoothing must be in [0, 1), got \(labelSmoothing)") }
        try notNegative(weightDecay, "-weight_decay")
    }
}
