/// A problem writing a training log (TensorBoard events), worded for the
/// user: the file and what failed.
public struct LoggingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
