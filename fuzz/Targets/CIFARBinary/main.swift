// CIFAR-10/100 binary batches (fixed-size records).
@testable import Core
import FuzzSupport

runFuzzer { input in
    let bytes = Array(input)
    _ = try? CIFAR.decodeBinary(bytes, .cifar10, name: "fuzz")
    _ = try? CIFAR.decodeBinary(bytes, .cifar100, name: "fuzz")
}
