/// A problem with a checkpoint, worded for the user.
public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
