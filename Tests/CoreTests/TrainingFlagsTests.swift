import Core
import Foundation
import XCTest

/// What train's flags alone decide: the original's run folder name and
/// args.txt, the arguments checkpoints record, the run's options.
final class TrainingFlagsTests: XCTestCase {
    /// train's flags at the original's defaults, as the command declares them.
    struct Flags: TrainingFlags {
        var seed: UInt64 = 2022, T = 6, tau: Float = 2.0, b = 128, epochs = 300, j = 0
        var dataDir = "./data", dataset = "cifar10", outDir = "./logs", surrogate = Surrogate.rectangle
        var resume: String?, preTrain: String?
        var optimizerKind = OptimizerKind.sgd, optimizerSpelling = "SGD"
        var lr: Float = 0.1, momentum: Float = 0.9, lrScheduler = LearningRateSchedule.Kind.cosine
        var stepSize = 100, gamma: Float = 0.1, tMax = 300, model = "spiking_vgg11_bn"
        var dropRate: Float = 0, weightDecay: Float = 5e-4, lossLambda: Float = 0.05, mseNReg = false, lossMeans: Float = 1
        var saveInit = false, neuronKind = ActivationKind.lif, neuronSpelling = "LIF", cutupmixAuto = false
        var labelSmoothing: Float = 0, name = "", amp = false, splitBy = FrameSplit.number, maxSteps: Int?
        var noShuffle = false, noAugment = false, bn = BatchNormStatistics.sync, onNan = NonFiniteStep.stop
    }

    /// A 3-rank ResNet-18 run on synthetic data: `-dataset synthetic -model spiking_resnet18 -neuron CLIF -T 2 -b 8`.
    var resnet: Flags {
        var f = Flags()
        f.dataset = "synthetic"; f.model = "spiking_resnet18"; f.neuronKind = .clif; f.neuronSpelling = "CLIF"; f.T = 2; f.b = 8
        return f
    }

    func testRunFolderAndArgsTxtAreTheOriginals() {
        XCTAssertEqual(resnet.runFolderName,
                       "BPTT_synthetic_spiking_resnet18__T2_tau2.0_e300_bs8_SGD_lr0.1_wd0.0005_SG_rectangle_drop0.0_losslamb0.05_CosALR_300")
        XCTAssertEqual(resnet.namespaceText, "Namespace(T=2, T_max=300, amp=False, b=8, cutupmix_auto=False, data_dir='./data', dataset='synthetic', drop_rate=0.0, epochs=300, gamma=0.1, j=0, label_smoothing=0.0, loss_lambda=0.05, loss_means=1.0, lr=0.1, lr_scheduler='CosALR', model='spiking_resnet18', momentum=0.9, mse_n_reg=False, name='', neuron_model='CLIF', opt='SGD', out_dir='./logs', pre_train=None, resume=None, save_init=False, seed=2022, step_size=100, surrogate='rectangle', tau=2.0, weight_decay=0.0005)")
        var step = resnet
        step.lrScheduler = .step; step.amp = true; step.optimizerSpelling = "adamw"
        XCTAssertTrue(step.runFolderName.hasSuffix("_bs8_adamw_lr0.1_wd0.0005_SG_rectangle_drop0.0_losslamb0.05_StepLR_100_0.1_amp"),
                      step.runFolderName)
    }

    func testCheckpointsRecordNoResumeAndClifMPIsOwnModelOptions() {
        var f = resnet
        f.resume = "run/checkpoint_latest.safetensors"; f.bn = .local; f.splitBy = .time
        XCTAssertEqual(f.recordedArguments(includingResume: true)["resume"], "run/checkpoint_latest.safetensors")
        XCTAssertNil(f.checkpointArguments["resume"])
        XCTAssertEqual(f.checkpointArguments["bn"], "local")
        XCTAssertEqual(f.checkpointArguments["split_by"], "time")
        XCTAssertNil(resnet.checkpointArguments["bn"], "the default is not recorded")
    }

    func testReluTrainsOneTimeStep() {
        var f = resnet
        f.neuronKind = .relu; f.neuronSpelling = "relu"
        XCTAssertEqual(f.activation, .relu)
        XCTAssertEqual(f.options.timeSteps, 1)
        XCTAssertEqual(f.checkpointArguments["T"], "1")
        XCTAssertTrue(f.runFolderName.contains("_T1_"))
    }

    func testOptionsFollowTheFlags() {
        var f = Flags()
        f.dataset = "cifar10"; f.cutupmixAuto = true; f.amp = true; f.noShuffle = true; f.maxSteps = 4
        let o = f.options
        XCTAssertEqual(o.timeSteps, 6)
        XCTAssertEqual(o.batchSize, 128)
        XCTAssertEqual(o.precision, .bf16Autocast)
        XCTAssertFalse(o.shuffle)
        XCTAssertTrue(o.augment)
        XCTAssertEqual(o.maxSteps, 4)
        XCTAssertNotNil(o.mixing, "-cutupmix_auto on CIFAR mixes batches")
        XCTAssertTrue(o.dropLastBatch)
        XCTAssertNil(Flags().options.mixing)
    }
}
