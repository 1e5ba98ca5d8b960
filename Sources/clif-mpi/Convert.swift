import ArgumentParser
import Core
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert the original's PyTorch .pth checkpoint into a clif-mpi safetensors checkpoint.",
        discussion: """
        Reads the dict `torch.save` wrote (`net` state_dict, optimiser state, epoch, max_test_acc) \
        or a bare state_dict, executing nothing, and writes the same tensors under the same names. \
        `-resume`, `-pre_train` and `infer` also read .pth files directly. Writing .pth files is \
        not supported.
        """)

    @Argument(help: "The .pth file.") var input: String
    @Argument(help: "The .safetensors file to write.") var output: String
    @Option(name: .customLong("model"), help: "Model name to record in the checkpoint's metadata.") var model = ""

    func run() throws {
        let url = URL(fileURLWithPath: input)
        let contents: TorchCheckpointContents
        do {
            contents = try TorchCheckpoint.read(contentsOf: url)
        } catch let error as CheckpointError {
            throw RunError(description: error.description)
        }
        let data = TorchCheckpoint.safetensorsData(contents, model: model)
        do {
            try Checkpoint.writeAtomically(data, to: URL(fileURLWithPath: output))
        } catch let error as CheckpointError {
            throw RunError(description: error.description)
        }
        print("\(input): \(contents.tensors.count) tensors\(contents.optimizer.map { ", \($0.name) state" } ?? "")\(contents.epoch.map { ", epoch \($0)" } ?? "") → \(output)")
    }
}
