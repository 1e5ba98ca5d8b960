// Checkpoint header metadata (training state, optimiser scalars, the run's
// arguments): the input is a safetensors header, given its length prefix, so
// mutations work on the JSON text and its `__metadata__` strings.
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    var bytes = Data(count: 8)
    bytes.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(input.count).littleEndian, as: UInt64.self) }
    bytes.append(contentsOf: input)
    guard let file = try? SafeTensorsFile(data: bytes, name: "fuzz") else { return }
    _ = Checkpoint.optimizerScalars(in: file.metadata)
    guard let state = try? Checkpoint.trainingState(in: file.metadata, file: "fuzz") else { return }
    _ = state.recordedBatchSize
    _ = state.arguments.json
    _ = state.arguments.namespaceText
}
