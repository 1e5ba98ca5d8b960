import Foundation
import XCTest
@testable import Core

/// Golden fixtures written by tools/make_fixtures.py (see tools/FIXTURES.md).
enum Fixture {
    static var root: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }

    static func load(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> SafeTensorsFile {
        let url = root.appendingPathComponent(path + ".safetensors")
        return try SafeTensorsFile(contentsOf: url)
    }

    /// Every fixture file in a sub-folder, sorted by name.
    static func all(in folder: String) throws -> [(name: String, file: SafeTensorsFile)] {
        let dir = root.appendingPathComponent(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        return try names.map { ($0, try SafeTensorsFile(contentsOf: dir.appendingPathComponent($0))) }
    }
}

extension SafeTensorsFile {
    /// The tensor `name`, failing the test when it is missing.
    func required(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Tensor {
        try XCTUnwrap(tensor(name), "fixture lacks tensor \(name)", file: file, line: line)
    }
}

/// Asserts `actual` matches `expected` within `tolerance` of relative error
/// (max |a − e| / max |e|) and reports the largest difference either way.
@discardableResult
func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) -> Float {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return .infinity }
    let error = actual.relativeError(to: expected)
    XCTAssertLessThanOrEqual(error, tolerance, "\(what): relative error \(error) > \(tolerance)", file: file, line: line)
    DifferenceLog.record(what, error)
    return error
}

/// Collects the largest observed difference per fixture family, printed at
/// the end of the run so the closing notes can quote them.
enum DifferenceLog {
    nonisolated(unsafe) static var largest: [String: Float] = [:]
    static let lock = NSLock()

    static func record(_ what: String, _ error: Float) {
        let family = String(what.split(separator: ":").first ?? Substring(what))
        lock.lock(); defer { lock.unlock() }
        largest[family] = max(largest[family] ?? 0, error)
        print("max-diff \(what) \(error)")
    }
}

/// A deterministic tensor of normal values for tests.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1, shift: Float = 0) -> Tensor {
    var stream = RandomStream(seed: seed, 99)
    return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in shift + scale * stream.normal() })
}

/// A one-process training context over a batch of `batch` samples.
func context(batch: Int, chunkSize: Int = 2, timeSteps: Int = 1, training: Bool = true) -> StepContext {
    StepContext(layout: .whole(batch: batch, chunkSize: chunkSize), reducer: LocalReducer(),
                training: training, timeSteps: timeSteps)
}

/// Σ a·b, in Double.
func dot(_ a: Tensor, _ b: Tensor) -> Double {
    zip(a.data, b.data).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

/// The plain loops of `EventConv.reference` over every image of x [T, N, C, H, W]:
/// the definition both the im2col + GEMM and the event-driven paths must equal.
func directConvolution(_ x: Tensor, weight w: Tensor, bias: [Float]?, stride: Int, padding: Int) -> Tensor {
    let g = ConvGeometry(channels: x.shape[2], height: x.shape[3], width: x.shape[4], kernel: w.shape[2],
                         stride: stride, padding: padding)
    let o = w.shape[0], inImage = g.channels * g.inPixels, outImage = o * g.outPixels
    var y = Tensor(zeros: [x.shape[0], x.shape[1], o, g.outHeight, g.outWidth])
    y.data.withUnsafeMutableBufferPointer { ys in
        x.data.withUnsafeBufferPointer { xs in
            for image in 0..<(x.shape[0] * x.shape[1]) {
                EventConv.reference(ys.baseAddress! + image * outImage, image: xs.baseAddress! + image * inImage,
                                    weight: w.data, bias: bias, outChannels: o, geometry: g)
            }
        }
    }
    return y
}

/// A safetensors file with one metadata entry's text replaced (the header
/// length updated), as a damaged or hand-edited checkpoint would have it.
func replacingMetadata(_ field: String, _ old: String, with new: String, in data: Data) throws -> Data {
    let length = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    let header = try XCTUnwrap(String(data: data.subdata(in: 8..<(8 + length)), encoding: .utf8))
    let entry = "\"\(field)\":\"\(old)\""
    XCTAssertTrue(header.contains(entry), "no \(entry) in the header")
    let edited = Data(header.replacingOccurrences(of: entry, with: "\"\(field)\":\"\(new)\"").utf8)
    var out = Data()
    withUnsafeBytes(of: UInt64(edited.count).littleEndian) { out.append(contentsOf: $0) }
    return out + edited + data.subdata(in: (8 + length)..<data.count)
}
