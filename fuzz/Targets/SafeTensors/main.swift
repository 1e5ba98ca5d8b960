// safetensors: checkpoints (-resume, -pre_train, infer) and fixtures.
// Every tensor that parses is also converted, as loading a checkpoint does.
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    guard let file = try? SafeTensorsFile(data: Data(input), name: "fuzz") else { return }
    for name in file.names {
        guard let tensor = file.tensors[name] else { fatalError("\(name) listed but missing") }
        precondition(tensor.floats.count == tensor.count && tensor.int64s.count == tensor.count)
    }
}
