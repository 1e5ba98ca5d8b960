import Foundation
import XCTest

/// `clif-mpi export-nir` on a CLIF checkpoint trained on the digits: the file
/// read back through libhdf5 has NIR's layout, and, where the Python packages
/// are installed, snnTorch's NIR importer runs it with clif-mpi's spikes.
final class ExportNIRCommandTests: XCTestCase {
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Trains once for both tests and exports: (checkpoint, model.nir, reference.h5).
    static let exported: Result<(String, String, String), Error> = Result {
        let (trained, checkpoint) = try Tool.trainDigits("export-nir", timeSteps: 4, epochs: 2, checkpoint: "checkpoint_max.safetensors")
        guard trained.status == 0 else { throw HDF5TestError("training failed: \(trained.output)") }
        let folder = URL(fileURLWithPath: checkpoint).deletingLastPathComponent()
        let model = folder.appendingPathComponent("model.nir").path, reference = folder.appendingPathComponent("reference.h5").path
        let export = try Tool.run(try Tool.binary.path, ["export-nir", "--checkpoint", checkpoint, "-o", model,
                                                         "--reference", reference, "--samples", "24"])
        guard export.status == 0 else { throw HDF5TestError("export-nir failed: \(export.output)") }
        return (checkpoint, model, reference)
    }

    func testFileHasNIRLayout() throws {
        let (_, model, reference) = try Self.exported.get()
        let file = try HDF5Reader(path: model)
        XCTAssertEqual(try file.strings("version"), ["1.0"])
        XCTAssertEqual(try file.strings("node/type"), ["NIRGraph"])
        let nodes = try file.members("node/nodes")
        XCTAssertEqual(nodes, ["classifier", "features.0", "features.2", "features.4", "features.6", "flatten",
                               "input", "output", "pool1", "pool2"])
        var types: [String: String] = [:]
        for node in nodes { types[node] = try file.strings("node/nodes/\(node)/type").first }
        XCTAssertEqual(types, ["classifier": "Affine", "features.0": "Conv2d", "features.2": "LIF", "features.4": "Conv2d",
                               "features.6": "LIF", "flatten": "Flatten", "input": "Input", "output": "Output",
                               "pool1": "AvgPool2d", "pool2": "AvgPool2d"])
        XCTAssertEqual(try file.shape("node/edges"), [9, 2])
        XCTAssertEqual(try file.strings("node/edges"),
                       ["input", "features.0", "features.0", "features.2", "features.2", "pool1", "pool1", "features.4",
                        "features.4", "features.6", "features.6", "pool2", "pool2", "flatten", "flatten", "classifier",
                        "classifier", "output"])
        XCTAssertEqual(try file.integers("node/nodes/input/shape"), [1, 8, 8])
        XCTAssertEqual(try file.integers("node/nodes/output/shape"), [10])
        // Conv2d: BatchNorm folded in (a bias although the checkpoint's BN carries the shift).
        XCTAssertEqual(try file.shape("node/nodes/features.0/weight"), [32, 1, 3, 3])
        XCTAssertEqual(try file.shape("node/nodes/features.0/bias"), [32])
        XCTAssertEqual(try file.integers("node/nodes/features.4/input_shape"), [4, 4])
        for field in ["stride", "dilation"] { XCTAssertEqual(try file.integers("node/nodes/features.4/\(field)"), [1, 1]) }
        XCTAssertEqual(try file.integers("node/nodes/features.4/padding"), [1, 1])
        XCTAssertEqual(try file.integers("node/nodes/features.4/groups"), [1])
        XCTAssertEqual(try file.integers("node/nodes/pool2/kernel_size"), [2, 2])
        XCTAssertEqual(try file.integers("node/nodes/flatten/input_type"), [64, 2, 2])
        XCTAssertEqual(try file.shape("node/nodes/classifier/weight"), [10, 256])
        // LIF of τ = 2, θ = 1, hard reset 0 at dt = 1e-4: tau = dt/k, r = 1/k, threshold just below θ.
        let expected: [String: Float] = ["tau": 2e-4, "r": 2, "v_leak": 0, "v_threshold": Float(1).nextDown, "v_reset": 0]
        for (field, value) in expected {
            let path = "node/nodes/features.6/\(field)"
            XCTAssertEqual(try file.shape(path), [64, 4, 4], path)
            XCTAssertEqual(Set(try file.floats(path)), [value], path)
        }
        let run = try HDF5Reader(path: reference)
        XCTAssertEqual(try run.shape("images"), [24, 1, 8, 8])
        XCTAssertEqual(try run.shape("spikes"), [4, 24, 64, 4, 4])
        XCTAssertEqual(try run.shape("logits"), [4, 24, 10])
        XCTAssertEqual(try run.strings("last_neuron"), ["features.6"])
    }

    func testRefusalsNameTheLayer() throws {
        let (checkpoint, model, _) = try Self.exported.get()
        let binary = try Tool.binary.path
        let clif = try Tool.run(binary, ["export-nir", "--checkpoint", checkpoint, "-o", model + ".clif", "-neuron", "CLIF"])
        XCTAssertNotEqual(clif.status, 0)
        XCTAssertTrue(clif.output.contains("layer features.2: CLIF's complementary memory"), clif.output)
        let soft = try Tool.run(binary, ["export-nir", "--checkpoint", checkpoint, "-o", model + ".soft", "--v-reset", "none"])
        XCTAssertNotEqual(soft.status, 0)
        XCTAssertTrue(soft.output.contains("layer features.2: the soft reset"), soft.output)
        let unwritable = try Tool.run(binary, ["export-nir", "--checkpoint", checkpoint, "-o", "/nonexistent/model.nir"])
        XCTAssertNotEqual(unwritable.status, 0)
        XCTAssertTrue(unwritable.output.contains("/nonexistent/model.nir: cannot create the HDF5 file"), unwritable.output)
    }

    /// A Python with nir, nirtorch, snntorch, torch and h5py: $CLIF_NIR_PYTHON, the venv
    /// `make nir-venv` builds, or python3.
    static func nirPython() throws -> String {
        let candidates = [ProcessInfo.processInfo.environment["CLIF_NIR_PYTHON"],
                          repository.appendingPathComponent(".build/venv-nir/bin/python").path,
                          "/usr/bin/python3", "/usr/local/bin/python3"].compactMap { $0 }
        for python in candidates where FileManager.default.isExecutableFile(atPath: python) {
            let probe = try? Tool.run(python, ["-c", "import nir, nirtorch, snntorch, torch, h5py"], timeout: 120)
            if probe?.status == 0 { return python }
        }
        throw XCTSkip("no Python with nir, nirtorch, snntorch, torch and h5py (make nir-venv, or set CLIF_NIR_PYTHON)")
    }

    func testSnnTorchRunsTheFileWithClifMpisSpikes() throws {
        let python = try Self.nirPython()
        let (_, model, reference) = try Self.exported.get()
        let script = Self.repository.appendingPathComponent("tools/check_nir.py").path
        let check = try Tool.run(python, [script, model, reference], timeout: 600)
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("0 of 98304 spikes of features.6 differ"), check.output)
        XCTAssertTrue(check.output.contains("same class for 24 of 24"), check.output)
    }
}
