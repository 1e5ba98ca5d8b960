import ArgumentParser
import Core
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert between the original's PyTorch .pth checkpoints and clif-mpi's safetensors checkpoints.",
        discussion: """
        A .pth input (the dict `torch.save` wrote: `net` state_dict, optimiser state, epoch, \
        max_test_acc, or a bare state_dict) is read executing nothing and written as a clif-mpi \
        checkpoint under the same names; `-resume`, `-pre_train` and `infer` also read .pth files \
        directly. A clif-mpi checkpoint is written as the original's .pth — {'net', 'optimizer', \
        'lr_scheduler', 'epoch', 'max_test_acc'} — which `torch.load(path, weights_only=True)` \
        reads and the original's `-resume` continues (at the start of the epoch a mid-epoch \
        checkpoint was taken in: the .pth layout records whole epochs only).
        """)

    @Argument(help: "The checkpoint to read: .pth or clif-mpi .safetensors.") var input: String
    @Argument(help: "The checkpoint to write (the other format).") var output: String
    @Option(name: .customLong("model"), help: "Model name to record in a safetensors checkpoint's metadata.") var model = ""

    func run() throws {
        let url = URL(fileURLWithPath: input)
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw RunError(description: "\(input): cannot read the checkpoint (\(error.localizedDescription))")
        }
        do {
            print(try TorchCheckpoint.convert(data, name: input, to: output, model: model))
        } catch let error as CheckpointError {
            throw RunError(description: error.description)
        } catch let error as SafeTensorsError {
            throw RunError(description: "\(error.description) (expected a .pth or a clif-mpi .safetensors checkpoint)")
        }
    }
}
