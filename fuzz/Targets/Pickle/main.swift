// The pickle machine with every allow-list clif-mpi uses (CIFAR's NumPy
// arrays, torch's data.pkl), then NumPy array decoding of what it returns.
@testable import Core
import FuzzSupport

runFuzzer { input in
    let bytes = Array(input)
    if let value = try? Pickle.parse(bytes, name: "fuzz", allowing: .numpyArrays) {
        if let array = try? NumPyArray(value, source: "fuzz") { _ = try? array.integerValues(source: "fuzz") }
        _ = try? value.integerArray(source: "fuzz")
    }
    _ = try? Pickle.parse(bytes, name: "fuzz", allowing: TorchCheckpoint.allowlist)
}
