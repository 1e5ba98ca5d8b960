import Foundation

/// SIGINT and SIGTERM ask a run to stop in order: `received` tells the
/// training loop, which finishes the current step; `train` then writes
/// checkpoint_latest (resumable with -resume) and exits with status
/// 128 + the signal. The first signal is noted on standard error.
public final class StopSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var signal: Int32?
    private var sources: [DispatchSourceSignal] = []

    public init() {
        for number in [SIGINT, SIGTERM] {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.record(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func record(_ number: Int32) {
        lock.lock(); defer { lock.unlock() }
        if signal == nil {
            signal = number
            FileHandle.standardError.write(Data("received signal \(number): stopping after the current step\n".utf8))
        }
    }

    /// The first stop signal received, if any.
    public var received: Int32? {
        lock.lock(); defer { lock.unlock() }
        return signal
    }
}
