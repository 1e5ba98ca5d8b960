// PyTorch .pth checkpoints: ZIP archive → data.pkl pickle → tensors from
// storages, then the conversion `-resume`/`infer` apply, read back.
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    guard let contents = try? TorchCheckpoint.read(Data(input), name: "fuzz") else { return }
    let converted = TorchCheckpoint.safetensorsData(contents)
    guard (try? SafeTensorsFile(data: converted, name: "converted")) != nil else {
        fatalError("a checkpoint that reads converts to an unreadable safetensors file")
    }
}
