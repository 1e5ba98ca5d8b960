import Foundation
import XCTest

/// The scale-out model (`bench/scale_model.py`) runs on the measurements committed in
/// `bench/scale-out-results/`, and the README's count of real jobs the model holds
/// within 20 % is what the model prints for them.
final class ScaleModelTests: XCTestCase {
    func testTheModelReproducesTheREADMEsJobCounts() throws {
        let root = DocumentationTests.root
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "bench/scale_model.py", "bench/scale-out-results"]
        process.currentDirectoryURL = root
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output.suffix(2000).description)

        // "  training-step jobs, a core per rank    4 /   4 within 20 %, …"
        func count(_ kind: String) -> (within: Int, of: Int)? {
            guard let line = output.split(separator: "\n").first(where: { $0.contains(kind) && $0.contains("within 20 %") })
            else { return nil }
            let numbers = line.split(separator: "/")
            guard numbers.count >= 2, let within = Int(numbers[0].split(separator: " ").last ?? ""),
                  let of = Int(numbers[1].split(separator: " ").first ?? "") else { return nil }
            return (within, of)
        }
        let cores = try XCTUnwrap(count("training-step jobs, a core per rank"), output)
        let shared = try XCTUnwrap(count("training-step jobs, oversubscribed"), output)
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let claim = "\(cores.within + shared.within) of \(cores.of + shared.of) jobs with 2–8 ranks within 20 %"
        XCTAssertTrue(readme.contains(claim), "the README should say \"\(claim)\", as the model prints")
    }
}
