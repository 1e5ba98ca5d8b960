import Core
import Foundation
import XCTest

/// The run folder under `-out_dir`: created with its parents and proved
/// writable, leaving no probe behind; a file in its path or too little space
/// is refused, naming the flag's value.
final class OutputFolderCheckTests: XCTestCase {
    func scratch(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clif-out-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testFolderIsCreatedWithItsParentsAndLeftEmpty() throws {
        let root = try scratch("create")
        let folder = OutputFolder(url: root.appendingPathComponent("runs/BPTT_x"), flagValue: "runs")
        try folder.prepare()
        try folder.prepare()  // again: the folder exists already
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.url.path), [])
        try folder.checkSpace(checkpointBytes: 1000)
    }

    func testAFileInThePathIsRefused() throws {
        let root = try scratch("file")
        let file = root.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let folder = OutputFolder(url: file.appendingPathComponent("run"), flagValue: "given")
        XCTAssertThrowsError(try folder.prepare()) { error in
            XCTAssertTrue(error is LoggingError, "\(type(of: error))")
            XCTAssertEqual("\(error)", "-out_dir given: cannot create the run folder \(folder.url.path): \(file.path): it exists and is not a folder. Pass an -out_dir you can write to")
        }
    }

    func testTooLittleSpaceIsRefusedBeforeTraining() throws {
        let folder = OutputFolder(url: try scratch("space"), flagValue: "given")
        XCTAssertThrowsError(try folder.checkSpace(checkpointBytes: Int.max / 4)) { error in
            XCTAssertTrue("\(error)".hasPrefix("-out_dir given: \(folder.url.path) has "), "\(error)")
            XCTAssertTrue("\(error)".contains(" free, but the checkpoints of this model need "), "\(error)")
        }
    }
}
