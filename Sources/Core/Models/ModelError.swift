/// A model name given on the command line (`-model`) that clif-mpi does not know,
/// or an input it cannot take.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
}
