import Foundation
import XCTest
@testable import Core

/// What infer's flags decide with the checkpoint: the settings evaluated,
/// inference.py's `Namespace(…)` and log folder, the checkpoints loaded
/// with the lines inference.py prints, `-save_init`'s checkpoint.
final class InferenceFlagsTests: XCTestCase {
    /// infer's flags at inference.py's defaults, as the command declares them.
    struct Flags: InferenceFlags {
        var seed: UInt64 = 2022
        var model: String?, dataset: String?, dataDir: String?, T: Int?, tau: Float?
        var neuronKind: ActivationKind?, neuronSpelling: String?
        var name = "", b = 128, j = 0, outDir = "./logs_infer", surrogate = Surrogate.rectangle
        var resume: String?, preTrain: String?
        var amp = false, dropRate: Float = 0, weightDecay: Float = 5e-4, lossLambda: Float = 0.05
        var mseNReg = false, lossMeans: Float = 1, saveInit = false, multipleStep = "False"
        var cutupmixAuto = false, labelSmoothing: Float = 0
        var evaluated: (path: String, flag: String)? { resume.map { (path: $0, flag: "-resume") } }
    }

    let fresh = CheckpointedModel(path: nil, flag: "-resume", recorded: RunArguments())

    /// A checkpoint whose run recorded a CLIF spiking_cnn_small on digits, T 3, tau 1.5.
    let recorded = CheckpointedModel(path: "run/checkpoint_max.safetensors", flag: "-resume", recorded: RunArguments([
        .init("model", .text("spiking_cnn_small")), .init("dataset", .text("digits")), .init("T", .number("3")),
        .init("tau", .number("1.5")), .init("neuron_model", .text("CLIF")),
    ]))

    func testNamespaceIsInferencePysAtItsDefaults() throws {
        let flags = Flags()
        XCTAssertEqual(flags.namespace(try flags.settings(fresh)), "Namespace(T=6, amp=False, b=128, cutupmix_auto=False, data_dir='./data', dataset='cifar10', drop_rate=0.0, j=0, label_smoothing=0.0, loss_lambda=0.05, loss_means=1.0, model='spiking_vgg11_bn', mse_n_reg=False, multiple_step=False, name='', neuron_model='LIF', out_dir='./logs_infer', pre_train=None, resume=None, save_init=False, seed=2022, surrogate='rectangle', tau=2.0, weight_decay=0.0005)")
        var given = flags
        given.multipleStep = "0"; given.resume = "run/checkpoint_max.pth"; given.amp = true; given.name = "x"
        let text = given.namespace(try given.settings(recorded))
        XCTAssertTrue(text.contains("multiple_step=True"), "argparse's type=bool: any non-empty value is True: \(text)")
        XCTAssertTrue(text.contains("resume='run/checkpoint_max.pth'"), text)
        XCTAssertTrue(text.hasPrefix("Namespace(T=3, amp=True, "), text)
        XCTAssertTrue(text.contains("model='spiking_cnn_small', ") && text.contains("neuron_model='CLIF'") && text.hasSuffix("tau=1.5, weight_decay=0.0005)"), text)
        given.name = "it's, T=9"
        XCTAssertTrue(given.namespace(try given.settings(recorded)).contains("name=\"it's, T=9\", "),
                      "text in Python's repr, as inference.py prints it")
    }

    func testSettingsAreTheFlagElseTheCheckpointElseTheDefault() throws {
        let s = try Flags().settings(recorded)
        XCTAssertEqual([s.model, s.dataset, s.dataDirectory, s.neuron], ["spiking_cnn_small", "digits", "./data", "CLIF"])
        XCTAssertEqual(s.timeSteps, 3)
        XCTAssertEqual(s.tau, 1.5)
        XCTAssertEqual(s.activation, Activation(.clif, tau: 1.5))
        XCTAssertEqual(s.trainedNeuron, "CLIF")
        var flags = Flags()
        flags.neuronKind = .lif; flags.neuronSpelling = "lif"; flags.T = 4; flags.tau = 3; flags.dataDir = "d"
        let given = try flags.settings(recorded)
        XCTAssertEqual([given.neuron, given.dataDirectory], ["lif", "d"])
        XCTAssertEqual(given.timeSteps, 4)
        XCTAssertEqual(given.activation, Activation(.lif, tau: 3))
        flags.neuronKind = .relu; flags.neuronSpelling = "ReLU"
        XCTAssertEqual(try flags.settings(recorded).timeSteps, 1, "relu evaluates one time step")
        XCTAssertNil(try Flags().settings(fresh).trainedNeuron)
    }

    func testUnknownRecordedNeuronNamesTheFlagToPass() {
        let odd = CheckpointedModel(path: "a.safetensors", flag: "-resume", recorded: RunArguments([.init("neuron_model", .text("GLIF"))]))
        XCTAssertThrowsError(try Flags().settings(odd)) { error in
            XCTAssertEqual("\(error)", "the checkpoint records neuron_model 'GLIF', which clif-mpi does not know; pass -neuron LIF, CLIF, PLIF or relu")
        }
        var flags = Flags()
        flags.neuronKind = .plif; flags.neuronSpelling = "PLIF"
        XCTAssertEqual(try flags.settings(odd).neuron, "PLIF", "the flag wins over the recorded name")
    }

    func testLossIsTheFlags() {
        var flags = Flags()
        XCTAssertEqual(flags.lossConfig, LossConfig(), "inference.py's defaults are the loss's")
        flags.lossLambda = 0; flags.lossMeans = 2; flags.mseNReg = true; flags.labelSmoothing = 0.1
        XCTAssertEqual(flags.lossConfig, LossConfig(lambda: 0, lossMeans: 2, mseOneHot: true, labelSmoothing: 0.1))
    }

    func testLogFolderIsUnderOutDir() throws {
        var flags = Flags()
        flags.name = "x"
        let s = try flags.settings(fresh)
        XCTAssertEqual(flags.logFolderPath(s), "./logs_infer/inference_cifar10_spiking_vgg11_bn_x_T6_tau2.0_bs128_amp")
        flags.outDir = "out/"
        XCTAssertEqual(flags.logFolderPath(s), "out/inference_cifar10_spiking_vgg11_bn_x_T6_tau2.0_bs128_amp")
    }

    /// `-save_init`'s checkpoint read back by `-resume` and `-pre_train`, with inference.py's lines.
    func testSavedInitialWeightsLoadWithInferencePysLines() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inference-flags-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let data = try fresh.dataset("digits", directory: nil, frames: 2)
        var flags = Flags()
        flags.neuronKind = .clif; flags.neuronSpelling = "CLIF"; flags.T = 2; flags.model = "spiking_cnn_small"
        let s = try flags.settings(fresh)
        let saved = try fresh.network(s.model, for: data, activation: s.activation, seed: 7)
        var lines: [String] = []
        let none = try flags.loadWeights(into: saved, fresh, read: { _ in XCTFail("nothing to read"); return Data() },
                                         say: { lines.append($0) })
        XCTAssertEqual(none, "0")
        XCTAssertEqual(lines, ["note: no -resume or -pre_train: evaluating the model -seed 2022 initialises"])
        flags.name = "it's, T=9"
        try flags.saveInitial(saved, s, in: folder)

        let file = folder.appendingPathComponent("checkpoint_0.safetensors").path
        flags.resume = file; flags.preTrain = file
        let described = try CheckpointedModel(path: file, flag: "-resume")
        XCTAssertEqual(described.recorded["model"], "spiking_cnn_small", "the checkpoint records the printed arguments")
        XCTAssertEqual(described.recorded["name"], "it's, T=9", "a -name with a quote and a comma survives the checkpoint")
        XCTAssertEqual(described.recorded["T"], "2")
        let loaded = try described.network(s.model, for: data, activation: s.activation, seed: 8)
        XCTAssertNotEqual(loaded.parameters.values, saved.parameters.values)
        lines = []
        let maxTestAccuracy = try flags.loadWeights(into: loaded, described, read: CheckpointedModel.bytes(of:), say: { lines.append($0) })
        XCTAssertEqual(maxTestAccuracy, "0.0")
        XCTAssertEqual(lines, ["resuming...", "start epoch: 0 , max test acc: 0.0", "use pre-trained model, max test acc: 0.0"])
        XCTAssertEqual(loaded.parameters.values, saved.parameters.values)
    }
}
