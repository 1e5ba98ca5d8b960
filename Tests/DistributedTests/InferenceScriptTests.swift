import Core
import Foundation
import XCTest

/// Each line of the original's run_inference_script, with `clif-mpi infer`
/// in place of `python inference.py` and nothing else changed, run in a
/// folder holding `./data_dir` (small files in the dataset's real format)
/// and the `-resume` path (the original's .pth layout, for the line's model
/// at full size, freshly initialised and recorded as epoch 199, best 0.5).
final class InferenceScriptTests: XCTestCase {
    func testCIFAR10CLIF() throws {
        try check("""
            -data_dir ./data_dir -dataset cifar10 -model spiking_resnet18 -neuron CLIF \
            -name without_auto_aug \
            -resume ./save_logs/logs_cifar10/BPTT_cifar10_spiking_resnet18__T6_tau2.0_e200_bs128_SGD_lr0.1_wd5e-05_SG_rectangle_drop0.0_losslamb0.05_LTLIF_CosALR_200_amp/checkpoint_max.pth
            """, folder: "inference_cifar10_spiking_resnet18_without_auto_aug_T6_tau2.0_bs128_CLIF__amp")
    }

    func testCIFAR10LIF() throws {
        try check("""
            -data_dir ./data_dir -dataset cifar10 -model spiking_resnet18 -neuron LIF \
            -name without_auto_aug \
            -resume ./save_logs/logs_cifar10/BPTT_cifar10_spiking_resnet18__T6_tau2.0_e200_bs128_SGD_lr0.1_wd5e-05_SG_rectangle_drop0.0_losslamb0.05_CosALR_200_amp/checkpoint_max.pth
            """, folder: "inference_cifar10_spiking_resnet18_without_auto_aug_T6_tau2.0_bs128_amp")
    }

    func testCIFAR100CLIF() throws {
        try check("""
            -data_dir ./data_dir -dataset cifar100 -model spiking_resnet18 -neuron CLIF \
            -name without_auto_aug \
            -resume ./save_logs/logs_cifar100/BPTT_cifar100_spiking_resnet18__T6_tau2.0_e200_bs128_SGD_lr0.1_wd0.0005_SG_rectangle_drop0.0_losslamb0.05_LTLIF_CosALR_200_amp/checkpoint_max.pth
            """, folder: "inference_cifar100_spiking_resnet18_without_auto_aug_T6_tau2.0_bs128_CLIF__amp")
    }

    func testCIFAR100LIF() throws {
        try check("""
            -data_dir ./data_dir -dataset cifar100 -model spiking_resnet18 -neuron LIF \
            -name without_auto_aug \
            -resume ./save_logs/logs_cifar100/BPTT_cifar100_spiking_resnet18__T6_tau2.0_e200_bs128_SGD_lr0.1_wd0.0005_SG_rectangle_drop0.0_losslamb0.05_CosALR_200_amp/checkpoint_max.pth
            """, folder: "inference_cifar100_spiking_resnet18_without_auto_aug_T6_tau2.0_bs128_amp")
    }

    func testTinyImageNetCLIF() throws {
        try check("""
            -data_dir ./data_dir -dataset tiny_imagenet -model spiking_vgg13_bn -b 256 -neuron CLIF \
            -name without_auto_aug \
            -resume ./save_logs/logs_tiny_imagenet/without_auto_aug/test_t_BPTT_tiny_imagenet_spiking_vgg13_bn__T6_tau2.0_e200_bs256_SGD_lr0.1_wd0.0001_SG_rectangle_drop0.0_losslamb0.05_LTLIF_CosALR_200_amp/checkpoint_max.pth
            """, folder: "inference_tiny_imagenet_spiking_vgg13_bn_without_auto_aug_T6_tau2.0_bs256_CLIF__amp")
    }

    func testTinyImageNetLIF() throws {
        try check("""
            -data_dir ./data_dir -dataset tiny_imagenet -model spiking_vgg13_bn -b 256 -neuron LIF \
            -name without_aug \
            -resume ./save_logs/logs_tiny_imagenet/without_auto_aug/test_t_BPTT_tiny_imagenet_spiking_vgg13_bn__T6_tau2.0_e200_bs256_SGD_lr0.1_wd0.0001_SG_rectangle_drop0.0_losslamb0.05CosALR_200_amp/checkpoint_max.pth
            """, folder: "inference_tiny_imagenet_spiking_vgg13_bn_without_aug_T6_tau2.0_bs256_amp")
    }

    func testDVSCIFAR10CLIF() throws {
        try check("""
            -data_dir ./data_dir -dataset DVSCIFAR10 -model spiking_vgg11_bn -T 10 -neuron CLIF \
            -name without_auto_aug \
            -resume ./save_logs/logs_dvscifar/BPTT_DVSCIFAR10_spiking_vgg11_bn__T10_tau2.0_e300_bs128_SGD_lr0.05_wd0.0005_SG_rectangle_drop0.3_losslamb0.05_LTLIF_CosALR_300_amp/checkpoint_max.pth
            """, folder: "inference_DVSCIFAR10_spiking_vgg11_bn_without_auto_aug_T10_tau2.0_bs128_CLIF__amp")
    }

    func testDVSCIFAR10LIF() throws {
        try check("""
            -data_dir ./data_dir -dataset DVSCIFAR10 -model spiking_vgg11_bn -T 10 -neuron LIF \
            -name without_auto_aug \
            -resume ./save_logs/logs_dvscifar/BPTT_DVSCIFAR10_spiking_vgg11_bn__T10_tau2.0_e300_bs128_SGD_lr0.05_wd0.0005_SG_rectangle_drop0.3_losslamb0.05_CosALR_300_amp/checkpoint_max.pth
            """, folder: "inference_DVSCIFAR10_spiking_vgg11_bn_without_auto_aug_T10_tau2.0_bs128_amp")
    }

    func testDVSGestureCLIF() throws {
        try check("""
            -data_dir ./data_dir -dataset dvsgesture -model spiking_vgg11_bn -T 20 -b 16 -neuron CLIF \
            -name without_auto_aug \
            -resume ./save_logs/logs_dvsgesture/BPTT_dvsgesture_spiking_vgg11_bn__T20_tau2.0_e300_bs16_SGD_lr0.1_wd0.0005_SG_rectangle_drop0.4_losslamb0.05_LTLIF_CosALR_300_amp/checkpoint_max.pth
            """, folder: "inference_dvsgesture_spiking_vgg11_bn_without_auto_aug_T20_tau2.0_bs16_CLIF__amp")
    }

    func testDVSGestureLIF() throws {
        try check("""
            -data_dir ./data_dir -dataset dvsgesture -model spiking_vgg11_bn -T 20 -b 16 -neuron LIF \
            -name without_auto_aug \
            -resume ./save_logs/logs_dvsgesture/BPTT_dvsgesture_spiking_vgg11_bn__T20_tau2.0_e300_bs16_SGD_lr0.1_wd0.0005_SG_rectangle_drop0.4_losslamb0.05CosALR_300_amp/checkpoint_max.pth
            """, folder: "inference_dvsgesture_spiking_vgg11_bn_without_auto_aug_T20_tau2.0_bs16_amp")
    }

    /// Runs `line` (the script's flags) in a fresh folder and checks inference.py's
    /// output, its log folder `logs_infer/<folder>` and clif-mpi's table.
    func check(_ line: String, folder: String, file: StaticString = #filePath, lineNumber: UInt = #line) throws {
        let words = line.split(separator: " ").map(String.init)
        func value(_ flag: String) -> String? { words.firstIndex(of: flag).map { words[$0 + 1] } }
        let (dataset, model, neuron) = (value("-dataset")!, value("-model")!, value("-neuron")!)
        let timeSteps = Int(value("-T") ?? "6")!
        let root = try Tool.temporaryFolder("script-\(dataset)-\(neuron)")
        defer { try? FileManager.default.removeItem(at: root) }
        let dataDir = root.appendingPathComponent("data_dir")
        try Self.writeData(dataset, to: dataDir)
        let data = try DatasetCatalog.load(dataset, dataDirectory: dataDir, frames: timeSteps)
        let resume = value("-resume")!
        try Self.writeOriginalCheckpoint(model: model, data: data, to: root.appendingPathComponent(resume))

        let run = try Tool.run(try Tool.binary.path, ["infer"] + words, directory: root, timeout: 900)
        Tool.assertOutput(run, contains: [
            "Namespace(T=\(timeSteps), amp=False, b=\(value("-b") ?? "128"), ",
            "model='\(model)'", "neuron_model='\(neuron)'", "resume='\(resume)'", "out_dir='./logs_infer'",
            model.hasPrefix("spiking_resnet") ? "using Resnet model." : "using Spiking VGG model.",
            "Total Parameters: ", "resuming...", "start epoch: 200 , max test acc: 0.5",
            "Mkdir ./logs_infer/\(folder).", "max_test_acc=0.5, total_time=", "after one epoch: ", "Final Throughput: ",
        ], file: file, line: lineNumber)
        // inference.py's test_acc is the table's top-1.
        let info = try XCTUnwrap(run.output.split(separator: "\n").first { $0.hasPrefix("test_loss=") }, file: file, line: lineNumber)
        let accuracy = try XCTUnwrap(info.split(separator: ", ").first { $0.hasPrefix("test_acc=") }.flatMap { Double($0.dropFirst(9)) })
        XCTAssertTrue(run.output.contains(String(format: "| \(neuron) | soft | %.2f %%", 100 * accuracy)), run.output,
                      file: file, line: lineNumber)
        let log = try String(contentsOf: root.appendingPathComponent("logs_infer/\(folder)/args.txt"), encoding: .utf8)
        XCTAssertTrue(log.hasPrefix("Namespace(T=\(timeSteps), "), log, file: file, line: lineNumber)
        XCTAssertTrue(log.contains("\n\(info)\nafter one epoch: ") && log.contains("GB\nThroughput\n"), log, file: file, line: lineNumber)
    }

    /// Small files in `dataset`'s real format in `folder`.
    static func writeData(_ dataset: String, to folder: URL) throws {
        switch dataset {
        case "cifar10": try CutupmixCommandTests.makeCIFAR(in: folder)
        case "cifar100": try writeCIFAR100(in: folder)
        case "tiny_imagenet":
            // makeDataset writes `tiny-imagenet-200/` inside the folder it is given.
            let made = try TinyImageNetCommandTests.makeDataset(in: folder.deletingLastPathComponent())
            try FileManager.default.moveItem(at: made, to: folder)
        case "DVSCIFAR10": try DVSCommandTests.writeCIFAR10DVSFolder(folder)
        case "dvsgesture": try DVSCommandTests.writeGestureFolder(folder)
        default: XCTFail("no data writer for \(dataset)")
        }
    }

    /// `cifar-100-binary/{train,test}.bin`: 8 records each of coarse label, fine label, 3072 pixels.
    static func writeCIFAR100(in folder: URL) throws {
        let root = folder.appendingPathComponent("cifar-100-binary")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (name, offset) in [("train.bin", 0), ("test.bin", 50)] {
            var data = Data()
            for i in 0..<8 {
                data.append(contentsOf: [UInt8(i % 20), UInt8((offset + 13 * i) % 100)])
                data.append(contentsOf: (0..<3072).map { UInt8(truncatingIfNeeded: ($0 * 7 + i * 31 + offset) % 251) })
            }
            try data.write(to: root.appendingPathComponent(name))
        }
    }

    /// A freshly initialised `model` for `data`'s shape, written as the original's
    /// `checkpoint_max.pth` (epoch 199, max_test_acc 0.5) at `url`.
    static func writeOriginalCheckpoint(model: String, data: LoadedDataset, to url: URL) throws {
        let network = try CheckpointedModel(path: nil, flag: "-resume")
            .network(model, for: data, activation: try XCTUnwrap(Activation(name: "CLIF")), seed: 7)
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let safetensors = folder.appendingPathComponent("fresh.safetensors")
        try Checkpoint.save(network: network, optimizer: nil, optimizerName: "",
                            state: TrainingState(epoch: 200, globalStep: 0, maxTestAccuracy: 0.5, arguments: RunArguments(), model: model),
                            to: safetensors)
        let file = try SafeTensorsFile(data: Data(contentsOf: safetensors), name: safetensors.path)
        try TorchCheckpoint.pthData(TorchCheckpoint.contents(ofSafeTensors: file)).write(to: url)
        try FileManager.default.removeItem(at: safetensors)
    }
}
