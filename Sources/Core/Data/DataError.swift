/// A problem reading a data file, worded for the user: the file, what was
/// expected, what was found.
public struct DataError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
