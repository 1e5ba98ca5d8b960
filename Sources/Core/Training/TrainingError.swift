/// A training run that cannot go on, worded for the user.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
}
