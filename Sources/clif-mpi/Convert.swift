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
            if TorchCheckpoint.isTorchFile(data) {
                let contents = try TorchCheckpoint.read(data, name: input)
                try Checkpoint.writeAtomically(TorchCheckpoint.safetensorsData(contents, model: model),
                                               to: URL(fileURLWithPath: output))
                print("\(input): \(contents.tensors.count) tensors\(contents.optimizer.map { ", \($0.name) state" } ?? "")\(contents.epoch.map { ", epoch \($0)" } ?? "") → \(output)")
            } else {
                let file = try SafeTensorsFile(data: data, name: input)
                let (hyperparameters, scheduler) = try Self.training(file, name: input)
                let contents = TorchCheckpoint.contents(ofSafeTensors: file, hyperparameters: hyperparameters)
                try Checkpoint.writeAtomically(try TorchCheckpoint.pthData(contents, scheduler: scheduler),
                                               to: URL(fileURLWithPath: output))
                print("\(input): \(contents.tensors.count) tensors\(contents.optimizer.map { ", \($0.name) state" } ?? "")\(contents.epoch.map { ", epoch \($0) (the original's numbering)" } ?? "") → \(output) (PyTorch .pth)")
            }
        } catch let error as CheckpointError {
            throw RunError(description: error.description)
        } catch let error as SafeTensorsError {
            throw RunError(description: "\(error.description) (expected a .pth or a clif-mpi .safetensors checkpoint)")
        }
    }

    /// The optimiser's settings and the scheduler, from the run's recorded arguments.
    static func training(_ file: SafeTensorsFile, name: String) throws -> ([String: Double], TorchCheckpoint.SchedulerState?) {
        let args = try RunArguments.recorded(in: file.metadata, file: name)
        var hyperparameters: [String: Double] = [:]
        for key in ["lr", "momentum", "weight_decay"] { hyperparameters[key] = args[key].flatMap(Double.init) }
        guard let lr = hyperparameters["lr"], let completed = file.metadata["epoch"].flatMap(Int.init) else {
            return (hyperparameters, nil)
        }
        hyperparameters["initial_lr"] = lr
        let kind: TorchCheckpoint.SchedulerState.Kind?
        switch args["lr_scheduler"].flatMap(LearningRateSchedule.Kind.init(rawValue:)) {
        case .cosine: kind = args["T_max"].flatMap(Int.init).map { .cosine(tMax: $0) }
        case .step:
            kind = args["step_size"].flatMap(Int.init).flatMap { size in args["gamma"].flatMap(Double.init).map { .step(stepSize: size, gamma: $0) } }
        case nil: kind = nil
        }
        guard let kind else { return (hyperparameters, nil) }
        let scheduler = TorchCheckpoint.SchedulerState(kind: kind, baseLearningRate: lr, lastEpoch: completed)
        hyperparameters["lr"] = scheduler.learningRate
        return (hyperparameters, scheduler)
    }
}
