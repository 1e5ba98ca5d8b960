import Core
import Foundation
import XCTest

/// The promise of issue 4: the same bits for any rank count. Each run uses
/// the same `-out_dir` string (the checkpoint records the arguments), one
/// after the other.
final class DeterminismTests: XCTestCase {
    static let arguments = ["train", "-dataset", "digits", "-model", "spiking_cnn_small", "-neuron", "CLIF",
                            "-b", "48", "-epochs", "1", "-T_max", "1", "--max-steps", "6", "-drop_rate", "0.2", "-T", "4"]

    /// Checkpoint bytes of one run, by launcher.
    func checkpoint(ranks: Int?, outDir: URL, extra: [String] = []) throws -> Data {
        try? FileManager.default.removeItem(at: outDir)
        let args = Self.arguments + ["-out_dir", outDir.path] + extra
        let result = ranks.map { try? Tool.mpi($0, args) } ?? (try? Tool.run(try Tool.binary.path, args))
        let r = try XCTUnwrap(result)
        XCTAssertEqual(r.status, 0, "run with \(ranks.map { "\($0) ranks" } ?? "one plain process") failed:\n\(r.output)")
        return try Data(contentsOf: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors"))
    }

    func testCheckpointsAreIdenticalForAnyRankCount() throws {
        let outDir = try Tool.temporaryFolder("determinism")
        let plain = try checkpoint(ranks: nil, outDir: outDir)
        for ranks in [1, 2, 3, 4] {
            let distributed = try checkpoint(ranks: ranks, outDir: outDir)
            XCTAssertEqual(distributed, plain, "checkpoint of \(ranks) ranks differs from the plain process's")
            print("determinism: \(ranks) ranks \(distributed == plain ? "identical" : "DIFFERENT") (\(distributed.count) bytes)")
        }
        // Worker threads do not change results either.
        XCTAssertEqual(try checkpoint(ranks: nil, outDir: outDir, extra: ["--threads", "3"]).count, plain.count)
        XCTAssertEqual(try checkpoint(ranks: nil, outDir: outDir, extra: ["--threads", "3"]), plain)
    }

    /// `-amp` (bf16 operands and results at convolutions and linear layers)
    /// keeps the promise: 1 process, 2 and 3 ranks give the same bytes; and it
    /// trains a different model from fp32. Dropout 0.3 scales spikes by
    /// 1/0.7, which bf16 does not hold exactly.
    func testAmpCheckpointsAreIdenticalForAnyRankCount() throws {
        let outDir = try Tool.temporaryFolder("determinism-amp")
        let args = ["-drop_rate", "0.3", "--max-steps", "4"]
        let fp32 = try checkpoint(ranks: nil, outDir: outDir, extra: args)
        let plain = try checkpoint(ranks: nil, outDir: outDir, extra: args + ["-amp"])
        // The recorded arguments differ anyway: compare the weights themselves.
        let conv = "features.0.weight"
        let fp32Weights = try XCTUnwrap(SafeTensorsFile(data: fp32).tensor(conv), "no \(conv) in the checkpoint")
        let ampWeights = try XCTUnwrap(SafeTensorsFile(data: plain).tensor(conv))
        XCTAssertNotEqual(ampWeights.data, fp32Weights.data, "-amp must change the trained weights")
        for ranks in [2, 3] {
            let distributed = try checkpoint(ranks: ranks, outDir: outDir, extra: args + ["-amp"])
            XCTAssertEqual(distributed, plain, "-amp checkpoint of \(ranks) ranks differs from the plain process's")
            print("determinism -amp: \(ranks) ranks \(distributed == plain ? "identical" : "DIFFERENT")")
        }
    }

    /// Stopped under one rank count and resumed under another, a run ends
    /// with the plain process's bytes.
    func testResumeUnderAnotherRankCount() throws {
        let outDir = try Tool.temporaryFolder("resume-ranks")
        let plain = try checkpoint(ranks: nil, outDir: outDir, extra: ["--max-steps", "40", "-epochs", "2", "-T_max", "2"])
        _ = try checkpoint(ranks: 2, outDir: outDir, extra: ["--max-steps", "25", "-epochs", "2", "-T_max", "2"])
        let saved = try Tool.temporaryFolder("resume-ranks-saved").appendingPathComponent("interrupted.safetensors")
        try FileManager.default.copyItem(at: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors"), to: saved)
        let args = Self.arguments + ["-out_dir", outDir.path, "--max-steps", "40", "-epochs", "2", "-T_max", "2", "-resume", saved.path]
        let r = try Tool.mpi(3, args)
        XCTAssertEqual(r.status, 0, r.output)
        let resumed = try Data(contentsOf: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors"))
        XCTAssertEqual(resumed, plain, "stopped with 2 ranks, resumed with 3: differs from the plain run")
    }

    /// `--bn local` trains with per-rank statistics (a different model): the
    /// ranks stay consistent (parameter hash every step) and the result differs
    /// from synchronised BatchNorm.
    func testLocalBatchNormIsConsistentAcrossRanks() throws {
        let outDir = try Tool.temporaryFolder("bn-local")
        let synchronised = try checkpoint(ranks: 2, outDir: outDir)
        let local = try checkpoint(ranks: 2, outDir: outDir, extra: ["--bn", "local", "--check-every", "1"])
        XCTAssertNotEqual(local, synchronised)
        XCTAssertEqual(try checkpoint(ranks: 2, outDir: outDir, extra: ["--bn", "local", "--check-every", "1"]), local,
                       "--bn local must still be reproducible for a given rank count")
    }

    /// With -b 27 the last of the 54 training batches of digits (1,433
    /// images) holds 2 samples, one chunk: two of three ranks hold nothing of
    /// it and still take part in every reduction.
    func testRanksWithoutSamplesInASmallLastBatch() throws {
        let outDir = try Tool.temporaryFolder("small-batch")
        let extra = ["-b", "27", "--max-steps", "60"]
        let plain = try checkpoint(ranks: nil, outDir: outDir, extra: extra)
        XCTAssertEqual(try checkpoint(ranks: 3, outDir: outDir, extra: extra), plain)
    }

    /// Past the old ceiling of 16 chunks per batch: 24 ranks (oversubscribed)
    /// and 20 threads give the plain process's bytes; with -b 16, eight of 24
    /// ranks hold no sample, the run says so and still ends with the plain
    /// process's bytes.
    func testMoreThanSixteenRanksAndThreads() throws {
        let outDir = try Tool.temporaryFolder("many-workers")
        let plain = try checkpoint(ranks: nil, outDir: outDir)
        XCTAssertEqual(try checkpoint(ranks: 24, outDir: outDir), plain, "24 ranks differ from the plain process")
        XCTAssertEqual(try checkpoint(ranks: nil, outDir: outDir, extra: ["--threads", "20"]), plain, "20 threads differ")
        let small = ["-b", "16"]
        let plainSmall = try checkpoint(ranks: nil, outDir: outDir, extra: small)
        try? FileManager.default.removeItem(at: outDir)
        let r = try Tool.mpi(24, Self.arguments + ["-out_dir", outDir.path] + small)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("ranks 0, 3, 6, 9, 12, 15, 18, 21 hold no sample"), r.output)
        let distributed = try Data(contentsOf: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors"))
        XCTAssertEqual(distributed, plainSmall, "-b 16 on 24 ranks differs from the plain process")
    }

    /// A checkpoint written before chunk sizes were recorded (16 chunks per
    /// batch: 3 samples at -b 48) resumes under another rank count with that
    /// rule and ends with the bytes of an uninterrupted run at
    /// `--chunk-samples 3`; `--chunk-samples 1` overrides it, with a note.
    func testCheckpointWithoutAChunkSizeResumesWithTheOldRule() throws {
        let outDir = try Tool.temporaryFolder("legacy-chunks")
        let steps = ["--max-steps", "40", "-epochs", "2", "-T_max", "2"]
        let uninterrupted = try checkpoint(ranks: nil, outDir: outDir, extra: steps + ["--chunk-samples", "3"])
        XCTAssertNotEqual(uninterrupted, try checkpoint(ranks: nil, outDir: outDir, extra: steps),
                          "the chunk size must matter, or this test proves nothing")
        var stopped = try checkpoint(ranks: 2, outDir: outDir, extra: ["--max-steps", "25", "-epochs", "2", "-T_max", "2",
                                                                      "--chunk-samples", "3"])
        // Renaming the field (same length) makes it a checkpoint of the old format.
        let field = try XCTUnwrap(stopped.range(of: Data("\"chunk_samples\"".utf8)))
        stopped.replaceSubrange(field, with: Data("\"legacy_ignore\"".utf8))
        XCTAssertEqual(stopped.count, try Data(contentsOf: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors")).count)
        let saved = try Tool.temporaryFolder("legacy-chunks-saved").appendingPathComponent("old.safetensors")
        try stopped.write(to: saved)
        let args = Self.arguments + ["-out_dir", outDir.path, "-resume", saved.path] + steps
        let r = try Tool.mpi(3, args)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("predates recorded chunk sizes"), r.output)
        let resumed = try Data(contentsOf: Tool.runFolder(outDir).appendingPathComponent("checkpoint_latest.safetensors"))
        XCTAssertEqual(resumed, uninterrupted, "resumed with the old rule: differs from the uninterrupted run")

        let overridden = try Tool.mpi(2, args + ["--chunk-samples", "1"])
        XCTAssertEqual(overridden.status, 0, overridden.output)
        XCTAssertTrue(overridden.output.contains("last bits differ"), overridden.output)
    }

    /// What TensorBoard shows — the original's four scalars, and per neuron
    /// layer the firing rate, CLIF's mean m and the membrane histograms,
    /// whose counts are summed over ranks — holds the same values from one
    /// process, 2 ranks and 3 threads (a whole epoch, so the epoch's figures
    /// are written).
    func testEventFileFiguresAreIdenticalForAnyRankCount() throws {
        let outDir = try Tool.temporaryFolder("determinism-events")
        let epoch = ["-b", "96", "--max-steps", "1000"]
        func summaries(ranks: Int?, extra: [String] = []) throws -> [EventFileReader.Summary] {
            _ = try checkpoint(ranks: ranks, outDir: outDir, extra: epoch + extra)
            return try EventFileReader(url: EventFileReader.file(in: Tool.runFolder(outDir))).summaries
        }
        let plain = try summaries(ranks: nil)
        let tags = Set(plain.map(\.tag))
        XCTAssertTrue(tags.isSuperset(of: ["firing_rate/features.2", "firing_rate/features.6", "clif_m_mean/features.2",
                                           "membrane_minus_threshold/features.2", "membrane_minus_threshold/features.6"]),
                      "tags: \(tags.sorted())")
        XCTAssertEqual(try summaries(ranks: 2), plain, "the event file of 2 ranks differs from the plain process's")
        XCTAssertEqual(try summaries(ranks: nil, extra: ["--threads", "3"]), plain, "3 threads differ")
    }
}
