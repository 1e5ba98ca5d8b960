// CIFAR-10/100 python batches (torchvision's download layout).
@testable import Core
import FuzzSupport

runFuzzer { input in
    let bytes = Array(input)
    _ = try? CIFAR.decodePython(bytes, .cifar10, name: "fuzz")
    _ = try? CIFAR.decodePython(bytes, .cifar100, name: "fuzz")
}
