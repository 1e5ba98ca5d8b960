/// A problem writing a run's output (its run folder, TensorBoard events, a
/// `--plot` chart), worded for the user: the flag or file and what failed.
public struct LoggingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
