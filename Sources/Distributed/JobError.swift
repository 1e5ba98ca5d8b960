/// A run that cannot go on, worded for the user (printed as it is; the job
/// ends with status 1).
public struct JobError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
