import Foundation
import XCTest

extension Tool {
    /// Runs `clif-mpi arguments` and fails the test unless it stops with an
    /// error whose output contains `message`.
    static func assertRefused(_ arguments: [String], saying message: String,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try Tool.run(try binary.path, arguments)
        XCTAssertNotEqual(run.status, 0, "\(arguments) succeeded:\n\(run.output)", file: file, line: line)
        XCTAssertTrue(run.output.contains(message), "missing \(message):\n\(run.output)", file: file, line: line)
    }

    /// Fails the test unless `run` succeeded and its output contains every line part of `expected`.
    static func assertOutput(_ run: Result, contains expected: [String],
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, 0, run.output, file: file, line: line)
        for part in expected {
            XCTAssertTrue(run.output.contains(part), "missing \(part):\n\(run.output)", file: file, line: line)
        }
    }
}
