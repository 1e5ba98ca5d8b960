/// A user-facing failure of a run: printed as it is, exit status 1.
struct RunError: Error, CustomStringConvertible {
    let description: String
}
