import ArgumentParser
import Core
import Foundation

struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on a test set (the original's inference.py), with its own neuron or another (the paper's conversion table).",
        discussion: """
        Takes the original's inference.py command line as it is, for example `clif-mpi infer \
        -data_dir ./data_dir -dataset cifar10 -model spiking_resnet18 -neuron LIF -name without_auto_aug \
        -resume ./save_logs/<run>/checkpoint_max.pth`, with every flag of inference.py and its \
        default, and prints what inference.py prints: its \
        arguments, "resuming...", "start epoch: … , max test acc: …", the log folder \
        (<-out_dir>/inference_<dataset>_<model>_<name>_T<T>_tau<tau>_bs<b>[_<neuron>_]_amp[_cutupmix_auto], \
        created with its args.txt), then "test_loss=…, test_acc=…, max_test_acc=…, total_time=…", \
        "after one epoch: …GB" (here the peak resident memory of the process, inference.py's CUDA \
        memory there) and "Final Throughput: …" (images × time steps per second over the test pass; \
        inference.py times 100 forward passes of a random batch). Before those lines comes \
        clif-mpi's table: one row per --v-reset setting (top-1, top-5, loss, samples/s); the \
        original's lines and args.txt describe the first setting.

        -model, -dataset, -data_dir, -T, -tau and -neuron default to what a clif-mpi checkpoint \
        records, else (a .pth records nothing) to inference.py's defaults. `-neuron LIF` \
        evaluates a CLIF-trained model with LIF neurons; `--v-reset none,0,-0.02,-0.04,-0.06,-0.08,-0.1` \
        sweeps soft reset (`none`) and hard reset to each value (docs/conversion.md). Without \
        -resume, --checkpoint or -pre_train the model is the one -seed initialises, as in \
        inference.py. -seed, -j, -surrogate, -weight_decay and -multiple_step change nothing at \
        inference (as in inference.py) and are recorded in args.txt. Under mpirun every test \
        batch is sharded with exact totals.
        """)

    @Option(name: original("seed"), help: "Random seed of the model's initialisation (used without a checkpoint).") var seed: UInt64 = 2022
    @Option(name: original("name"), help: "Extra text in the log folder name.") var name: String = ""
    @Option(name: original("T", "time-steps"), help: "Time steps (default: the checkpoint's, else 6; 1 for -neuron relu).") var T: Int?
    @Option(name: original("tau"), help: "Membrane time constant (default: the checkpoint's, else 2.0).") var tau: Float?
    @Option(name: original("b", "batch-size"), help: "Evaluation batch size.") var b: Int = 128
    @Option(name: original("j", "workers"), help: "Accepted for compatibility; batches are prepared on one background thread.") var j: Int = 0
    @Option(name: original("data_dir"), help: "Folder holding the dataset files (default: the checkpoint's, else ./data).") var dataDir: String?
    @Option(name: original("dataset"), help: "\(DatasetCatalog.names.joined(separator: ", ")) (default: the checkpoint's, else cifar10).") var dataset: String?
    @Option(name: original("out_dir"), help: "Folder for the log folder (args.txt).") var outDir: String = "./logs_infer"
    @Option(name: original("surrogate"), help: "Surrogate gradient (no effect at inference).") var surrogate = Surrogate.rectangle
    @Option(name: original("resume"), help: "The checkpoint to evaluate: a clif-mpi checkpoint (.safetensors) or the original's PyTorch .pth.") var resume: String?
    @Option(name: .customLong("checkpoint"), help: "The same as -resume.") var checkpoint: String?
    @Option(name: original("pre_train"), help: "Weights to evaluate instead, loaded after -resume's (as inference.py does).") var preTrain: String?
    @Flag(name: original("amp"), help: ArgumentHelp(ampHelp + " The log folder name ends in _amp either way, as inference.py names it by default (its -amp is on unless given an empty value, and evaluates in fp32)."))
    var amp = false
    @Option(name: original("model"), help: "\(ModelFactory.names.joined(separator: ", ")) (default: the checkpoint's, else spiking_vgg11_bn).") var model: String?
    @Option(name: original("drop_rate"), help: "Dropout rate of the model (no effect in evaluation).") var dropRate: Float = 0.0
    @Option(name: original("weight_decay"), help: "Accepted for compatibility (no effect at inference).") var weightDecay: Float = 5e-4
    @Option(name: original("loss_lambda"), help: "Weight λ of the MSE term of the test loss; 0 gives plain cross-entropy.") var lossLambda: Float = 0.05
    @Flag(name: original("mse_n_reg"), help: "Use the one-hot label as the MSE target of the test loss.") var mseNReg = false
    @Option(name: original("loss_means"), help: "MSE target value without -mse_n_reg.") var lossMeans: Float = 1.0
    @Flag(name: original("save_init"), help: "Save the evaluated weights as checkpoint_0.safetensors in the log folder.") var saveInit = false
    @Option(name: neuronNames,
            help: "Neuron to evaluate with, in any letter case; relu has T = 1 (default: the checkpoint's, else LIF).")
    var neuron: NeuronName?
    @Option(name: original("multiple_step"), help: "Accepted for compatibility (unused, as in inference.py).") var multipleStep: String = "False"
    @Flag(name: original("cutupmix_auto"), help: "Names the log folder as inference.py does (no effect on the test set).") var cutupmixAuto = false
    @Option(name: original("label_smoothing"), help: "Label smoothing of the test loss's cross-entropy.") var labelSmoothing: Float = 0.0

    @Option(name: .customLong("v-reset"), help: "Comma-separated resets to evaluate: none (soft) or hard-reset values, e.g. none,0,-0.02 (docs/conversion.md).")
    var vReset: String = "none"
    @Option(name: .customLong("plot"), help: ArgumentHelp("Also draw the table as a bar chart (top-1 and top-5 per reset setting) into this SVG file, written whole or not at all.", valueName: "file.svg"))
    var plot: String?
    @Option(name: .customLong("threads"), help: "Worker threads per process.") var threads: Int?
    @OptionGroup var job: JobOptions

    /// The resets to evaluate, nil for soft.
    var resets: [Float?]? {
        let items = vReset.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var out: [Float?] = []
        for item in items {
            if item.lowercased() == "none" { out.append(nil) } else if let v = Float(item) { out.append(v) } else { return nil }
        }
        return out.isEmpty ? nil : out
    }

    /// The checkpoint to evaluate, from `-resume` or `--checkpoint`, with the flag that named it.
    var evaluated: (path: String, flag: String)? {
        resume.map { (path: $0, flag: "-resume") } ?? checkpoint.map { (path: $0, flag: "--checkpoint") }
    }

    func validate() throws {
        try FlagCheck.positive(b, "-b")
        try FlagCheck.notNegative(j, "-j")
        try FlagCheck.positive(T, "-T")
        try FlagCheck.tau(tau)
        try FlagCheck.positive(threads, "--threads")
        try FlagCheck.modelAndLoss(dropRate: dropRate, lossLambda: lossLambda, labelSmoothing: labelSmoothing, weightDecay: weightDecay)
        if let plot, let problem = PlotFile.problem(plot) { throw ValidationError(problem) }
        guard resets != nil else { throw ValidationError("--v-reset \(vReset): expected none or numbers, comma-separated") }
        if let model, !ModelFactory.names.contains(model) {
            throw ValidationError("-model \(model) is unknown; expected one of: \(ModelFactory.names.joined(separator: ", "))")
        }
        if let dataset, !DatasetCatalog.names.contains(dataset) {
            throw ValidationError("-dataset \(dataset) is unknown; expected one of: \(DatasetCatalog.names.joined(separator: ", "))")
        }
        if let resume, let checkpoint,
           URL(fileURLWithPath: resume).standardizedFileURL != URL(fileURLWithPath: checkpoint).standardizedFileURL {
            throw ValidationError("-resume \(resume) and --checkpoint \(checkpoint) name different files; pass one of them (they are the same flag)")
        }
    }

    func run() throws {
        let run = InferenceRun(arguments: self)
        try Job.run(job, session: { try run.execute(in: $0) })
    }
}

/// The engine's view of infer's flags: the names it reads the neuron by.
extension Infer: InferenceFlags {
    var neuronKind: ActivationKind? { neuron?.value }
    var neuronSpelling: String? { neuron?.spelling }
}
