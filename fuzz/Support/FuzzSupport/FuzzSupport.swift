import CFuzzDriver
import Foundation

/// The body of the running fuzz target: one input, which it must survive.
nonisolated(unsafe) private var currentBody: ((UnsafeRawBufferPointer) -> Void)?

/// libFuzzer's callback. libFuzzer's own `main` (linked by
/// `-sanitize=fuzzer`) references it; the target's `main` runs the driver.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let body = currentBody else { fatalError("fuzz target started without runFuzzer") }
    body(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// Runs libFuzzer with the process's command line (`-max_total_time=…`,
/// corpus folders) and `body` as the target. Each target's `main.swift` is
/// one call of this function.
public func runFuzzer(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    currentBody = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
    exit(status)
}
