import Foundation
import XCTest
@testable import Core

/// Checkpoint writes on a disk that fills up: the write fails with the
/// system's reason, the temporary file is deleted, the previous checkpoint
/// is kept byte for byte.
final class FullDiskTests: XCTestCase {
    func testNoSpaceFailsTheWriteAndKeepsThePreviousCheckpoint() throws {
        let disk = try mountTemporaryFileSystem(self, options: "size=256k")
        let target = disk.appendingPathComponent("checkpoint_latest.safetensors")
        let previous = Data((0..<100_000).map { UInt8($0 & 0xFF) })
        try Checkpoint.writeAtomically(previous, to: target)
        // 100 kB are used; 200 kB more do not fit in 256 kB: write() fails with ENOSPC.
        let next = Data(repeating: 7, count: 200_000)
        XCTAssertThrowsError(try Checkpoint.writeAtomically(next, to: target)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("cannot write checkpoint \(target.path)"), message)
            XCTAssertTrue(message.contains("No space left on device"), message)
            XCTAssertTrue(message.contains("the previous checkpoint there is kept"), message)
            print("full disk: \(message)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk.path), ["checkpoint_latest.safetensors"],
                       "the temporary file must be deleted")
        XCTAssertEqual(try Data(contentsOf: target), previous)
        // Once space is back, the same write succeeds.
        try Checkpoint.writeAtomically(Data(repeating: 7, count: 100_000), to: target)
        XCTAssertEqual(try Data(contentsOf: target), Data(repeating: 7, count: 100_000))
    }

    /// No inode left: creating the temporary file fails (ENOSPC too).
    func testNoInodeFailsTheWriteAndKeepsThePreviousCheckpoint() throws {
        let disk = try mountTemporaryFileSystem(self, options: "size=1m,nr_inodes=2")
        let target = disk.appendingPathComponent("checkpoint_latest.safetensors")
        try Checkpoint.writeAtomically(Data("old".utf8), to: target)
        XCTAssertThrowsError(try Checkpoint.writeAtomically(Data("new".utf8), to: target)) { error in
            XCTAssertTrue("\(error)".contains("No space left on device"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: target), Data("old".utf8))
    }
}
