import ArgumentParser
import Core
import Foundation

/// A flag name in the original's single-dash spelling plus a kebab-case long form.
func original(_ name: String, _ kebab: String? = nil) -> NameSpecification {
    // One-letter names (-T, -b, -j) are short options to the parser.
    var names: [NameSpecification.Element] = name.count == 1
        ? [.customShort(Character(name))] : [.customLong(name, withSingleDash: true)]
    names.append(.customLong(kebab ?? name.replacingOccurrences(of: "_", with: "-")))
    return NameSpecification(names)
}

/// The neuron option's names, the same in every command: the original's
/// `-neuron_model` (its inference script writes `-neuron`) and the kebab forms.
let neuronNames: NameSpecification = [.customLong("neuron_model", withSingleDash: true), .customLong("neuron", withSingleDash: true),
                                      .customLong("neuron-model"), .customLong("neuron")]

/// The names of a checkpoint to read (energy, export-nir): `--checkpoint`, or
/// the original's `-resume` as infer and train take it.
let checkpointNames: NameSpecification = [.customLong("checkpoint"), .customLong("resume", withSingleDash: true), .customLong("resume")]

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a spiking network (the original's train_BPTT.py).",
        discussion: """
        Flags keep the original's single-dash names and defaults (docs/training.md); each also has a \
        --kebab-case form. Differences from the original: -amp means bf16 autocast numerics at \
        convolutions and linear layers only (the original's CUDA autocast uses fp16), and every \
        random draw is a pure function of the seed, so runs are bit-reproducible on any number \
        of processes, with and without -amp.
        """)

    @Option(name: original("seed"), help: "Random seed.") var seed: UInt64 = 2022
    @Option(name: original("T", "time-steps"), help: "Time steps (forced to 1 for -neuron_model relu).") var T: Int = 6
    @Option(name: original("tau"), help: "Membrane time constant.") var tau: Float = 2.0
    @Option(name: original("b", "batch-size"), help: "Global batch size.") var b: Int = 128
    @Option(name: original("epochs"), help: "Epochs to train.") var epochs: Int = 300
    @Option(name: original("j", "workers"), help: "Accepted for compatibility; batches are prepared on one background thread.") var j: Int = 0
    @Option(name: original("data_dir"), help: "Folder holding the dataset files.") var dataDir: String = "./data"
    @Option(name: original("dataset"), help: "\(DatasetCatalog.names.joined(separator: ", ")).") var dataset: String = "cifar10"
    @Option(name: original("out_dir"), help: "Folder for run folders (logs, checkpoints).") var outDir: String = "./logs"
    @Option(name: original("surrogate"), help: "Surrogate gradient.") var surrogate = Surrogate.rectangle
    @Option(name: original("resume"), help: "Checkpoint to continue from (a run stopped mid-epoch continues at the next batch; with another -b, at the batch that holds the first untrained sample of the epoch; the chunk size is kept, see --chunk-samples). Other settings that differ from the checkpoint's run (-T, -lr, -opt, …) take this run's value, with a note; another -opt starts the optimiser's state afresh; another -dataset is refused (use -pre_train).") var resume: String?
    @Option(name: original("pre_train"), help: "Checkpoint to load weights from (no optimiser state).") var preTrain: String?
    @Option(name: original("opt", "optimizer"), help: "Optimiser, in any letter case.") var opt = OptimizerName(.sgd)
    @Option(name: original("lr", "learning-rate"), help: "Initial learning rate.") var lr: Float = 0.1
    @Option(name: original("momentum"), help: "SGD momentum.") var momentum: Float = 0.9
    @Option(name: original("lr_scheduler"), help: "Learning-rate schedule.") var lrScheduler = LearningRateSchedule.Kind.cosine
    @Option(name: original("step_size"), help: "StepLR step size (epochs).") var stepSize: Int = 100
    @Option(name: original("gamma"), help: "StepLR decay factor.") var gamma: Float = 0.1
    @Option(name: original("T_max", "t-max"), help: "CosALR period (epochs).") var tMax: Int = 300
    @Option(name: original("model"), help: "\(ModelFactory.names.joined(separator: ", ")). vggsnn ignores -drop_rate, as in the original.") var model: String = "spiking_vgg11_bn"
    @Option(name: original("drop_rate"), help: "Dropout rate (shared over time steps).") var dropRate: Float = 0.0
    @Option(name: original("weight_decay"), help: "Weight decay on every parameter.") var weightDecay: Float = 5e-4
    @Option(name: original("loss_lambda"), help: "Weight λ of the MSE term; 0 gives plain cross-entropy.") var lossLambda: Float = 0.05
    @Flag(name: original("mse_n_reg"), help: "Use the one-hot label as the MSE target.") var mseNReg = false
    @Option(name: original("loss_means"), help: "MSE target value without -mse_n_reg.") var lossMeans: Float = 1.0
    @Flag(name: original("save_init"), help: "Save the initial weights as checkpoint_0.") var saveInit = false
    @Option(name: neuronNames,
            help: "Neuron, in any letter case; relu is the ANN baseline (T = 1).") var neuronModel = NeuronName(.lif)
    @Flag(name: original("cutupmix_auto"), help: "CIFAR: TrivialAugmentWide, RandomErasing and Mixup/CutMix per batch (last incomplete batch dropped); tiny_imagenet: AutoAugment (ImageNet policy).") var cutupmixAuto = false
    @Option(name: original("label_smoothing"), help: "Label smoothing of the cross-entropy.") var labelSmoothing: Float = 0.0
    @Option(name: original("name"), help: "Extra text in the run folder name.") var name: String = ""
    @Flag(name: original("amp"), help: ArgumentHelp(ampHelp)) var amp = false

    @Option(name: original("split_by"), help: "Event datasets (dvsgesture, DVSCIFAR10): cut each sample's events into the -T frames by equal event number (as the original) or equal time.") var splitBy = FrameSplit.number

    @Option(name: .customLong("max-steps"), help: "Stop after this many optimiser steps.") var maxSteps: Int?
    @Flag(name: .customLong("no-shuffle"), help: "Keep the training set in file order.") var noShuffle = false
    @Flag(name: .customLong("no-augment"), help: "Turn the train-time augmentation off.") var noAugment = false
    @Option(name: .customLong("threads"), help: "Worker threads per process (default: the cores its CPU affinity allows; with mpirun use --bind-to core for one per rank). Results do not depend on it.") var threads: Int?
    @Option(name: .customLong("chunk-samples"), help: "Samples per reduction chunk, the unit of work a rank or thread takes (default 1, so up to -b workers share a batch; a resumed run keeps its checkpoint's). Results are the same for any rank and thread count at a given chunk size; a larger one means fewer, larger BLAS calls and fewer partial sums.") var chunkSamples: Int?
    @Option(name: .customLong("bn"), help: "BatchNorm statistics: sync (of the global batch: the same model as one process) or local (per process, like DDP without SyncBatchNorm: a different model whose results depend on the process count; running statistics are rank 0's).") var bn = BatchNormStatistics.sync
    @Option(name: .customLong("on-nan"), help: "A NaN or infinity in the loss or gradients: stop (the last checkpoint is kept) or skip the step.") var onNan = NonFiniteStep.stop
    @Option(name: .customLong("check-every"), help: "Compare a hash of the parameters across ranks every N steps.") var checkEvery: Int = 50
    @OptionGroup var job: JobOptions

    func validate() throws {
        for (value, flag) in [(T, "-T"), (b, "-b"), (epochs, "-epochs"), (tMax, "-T_max"), (stepSize, "-step_size"),
                              (maxSteps, "--max-steps"), (threads, "--threads"), (chunkSamples, "--chunk-samples"),
                              (checkEvery, "--check-every")] {
            try FlagCheck.positive(value, flag)
        }
        try FlagCheck.tau(tau)
        try FlagCheck.positive(lr, "-lr")
        try FlagCheck.modelAndLoss(dropRate: dropRate, lossLambda: lossLambda, labelSmoothing: labelSmoothing, weightDecay: weightDecay)
        guard ModelFactory.names.contains(model) else {
            throw ValidationError("-model \(model) is unknown; expected one of: \(ModelFactory.names.joined(separator: ", "))")
        }
        if cutupmixAuto && CutupmixAuto.recipe(for: dataset) == nil {
            throw ValidationError("-cutupmix_auto applies to \(CutupmixAuto.datasets.joined(separator: ", ")) (as in the original), not to -dataset \(dataset); run without it")
        }
    }

    mutating func run() throws {
        let run = TrainingRun(arguments: self)
        try Job.run(job, session: { try run.execute(in: $0) })
    }
}

/// The engine's view of train's flags: the names it reads the optimiser and
/// the neuron by.
extension Train: TrainingFlags {
    var optimizerKind: OptimizerKind { opt.value }
    var optimizerSpelling: String { opt.spelling }
    var neuronKind: ActivationKind { neuronModel.value }
    var neuronSpelling: String { neuronModel.spelling }
}

/// `-amp` / `--amp` help, shared by train, infer and bench.
let ampHelp = """
    bf16 autocast numerics (PyTorch's torch.autocast("cpu", dtype=torch.bfloat16) for conv2d and linear): \
    their inputs, weights, biases, outputs and gradients are rounded to bf16 and the products are \
    accumulated in fp32; master weights, BatchNorm, neurons and the loss stay fp32. Deterministic and \
    rank-count independent like fp32. clif-mpi runs these products on fp32 units (a product of \
    two bf16 values is exact in fp32), so -amp trains at fp32 speed or slightly slower on every \
    CPU: it uses no bf16 dot-product instructions (AVX512-BF16, AMX-BF16, ARM BF16), which would \
    make it faster.
    """
