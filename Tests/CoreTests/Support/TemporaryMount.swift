import Foundation
import XCTest

/// A small tmpfs mounted for one test (a full disk on demand), unmounted
/// when the test ends. Skips the test when mounting is not permitted
/// (not root, or a container without CAP_SYS_ADMIN).
func mountTemporaryFileSystem(_ test: XCTestCase, options: String) throws -> URL {
    let point = FileManager.default.temporaryDirectory.appendingPathComponent("clif-tmpfs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: point, withIntermediateDirectories: true)
    let mount = Process()
    mount.executableURL = URL(fileURLWithPath: "/bin/mount")
    mount.arguments = ["-t", "tmpfs", "-o", options, "tmpfs", point.path]
    mount.standardOutput = FileHandle.nullDevice
    mount.standardError = FileHandle.nullDevice
    try mount.run()
    mount.waitUntilExit()
    guard mount.terminationStatus == 0 else {
        try? FileManager.default.removeItem(at: point)
        throw XCTSkip("cannot mount a tmpfs (\(options)) to simulate a full disk: `mount` needs root and CAP_SYS_ADMIN")
    }
    test.addTeardownBlock {
        let unmount = Process()
        unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
        unmount.arguments = [point.path]
        try? unmount.run()
        unmount.waitUntilExit()
        try? FileManager.default.removeItem(at: point)
    }
    return point
}
