import Dispatch
import Foundation
import Synchronization
import CRuntime

/// How clif-mpi uses the cores of a process.
///
/// OpenBLAS always runs single-threaded: a multi-threaded sgemm splits its
/// output between threads, which changes the bits of the result with the
/// thread count (measured: a 2-thread and a 1-thread run diverge after a few
/// steps). Parallelism comes from running the reduction chunks of a batch on
/// `workers` threads instead — each chunk's computation is the same whichever
/// thread runs it, so results are independent of the thread count, exactly
/// as they are of the rank count.
public enum Parallel {
    nonisolated(unsafe) private static var workerCount = 1

    /// Threads per process for chunk-parallel work (≥ 1).
    public static var workers: Int { workerCount }

    /// Sets the worker count and pins OpenBLAS to one thread. Call once at start-up.
    public static func configure(workers: Int) {
        precondition(workers > 0, "Parallel.configure: workers \(workers)")
        workerCount = workers
        Gemm.setThreads(1)
        // Activations of a step are tens of MB; above glibc's mmap threshold
        // (at most 32 MB) every one is a fresh mmap whose pages the kernel
        // faults in and zeroes again each step. Keeping them in the heap lets
        // the next step reuse the same pages.
        mallopt(M_MMAP_THRESHOLD, 1 << 30)
        mallopt(M_TRIM_THRESHOLD, 1 << 30)
    }

    /// Cores this process may run on: its CPU affinity (Open MPI 4 binds each
    /// rank to a core for up to 2 ranks, to a socket above that; pass
    /// `--bind-to core` or `--threads`), else the machine's core count.
    public static var availableCores: Int {
        // Linux reports the affinity mask in /proc/self/status ("Cpus_allowed: ff,ffffffff").
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) {
            let mask = line.dropFirst("Cpus_allowed:".count).filter { $0.isHexDigit }
            let count = mask.reduce(0) { $0 + (Int(String($1), radix: 16) ?? 0).nonzeroBitCount }
            if count > 0 { return min(count, ProcessInfo.processInfo.activeProcessorCount) }
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// Runs `body(range)` for consecutive ranges covering 0..<count (one range,
    /// on the calling thread, below `grain` elements; else up to four per
    /// worker, so that `forEach` can even out threads that lose their core),
    /// on up to `workers` threads. For elementwise work whose result does not
    /// depend on how it is split.
    public static func forEachRange(_ count: Int, grain: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
        let parts = count >= grain && workerCount > 1 ? min(4 * workerCount, max(workerCount, count / (grain / 4))) : 1
        let width = (count + parts - 1) / parts
        forEach(parts) { part in body(min(count, part * width)..<min(count, (part + 1) * width)) }
    }

    /// Runs `body(i)` for every i in 0..<count on up to `workers` threads.
    /// Every index must write only to its own memory.
    ///
    /// Each thread takes the next index not yet taken, so a thread that loses
    /// its core for a while (to the batch prefetcher, MPI, another process)
    /// leaves its share to the others instead of holding up the whole loop.
    /// Which thread runs an index never changes what it computes.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if workerCount <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        let threads = min(workerCount, count)
        let next = Atomic<Int>(0)
        let poll = pollingHook
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                let polls = poll.map { $0.thread == pthread_self() } ?? false
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard i < count else { return }
                    body(i)
                    if polls { poll?.body() }
                }
            }
        }
    }

    /// Work to run now and then while the workers compute: between two
    /// indices of `forEach` on `thread` (the thread that installed it, when
    /// it is the one that called `forEach`). The MPI reducer moves its
    /// gradient buckets on this way during backward — MPI over TCP progresses
    /// only inside MPI calls, and only the main thread may make them.
    public struct PollingHook {
        let thread: pthread_t
        let body: () -> Void
    }

    nonisolated(unsafe) private static var pollingHook: PollingHook?

    /// Installs `body` as the polling hook of the calling thread (nil removes
    /// it). `body` runs on that thread only and must tolerate being called
    /// from inside any `forEach` that thread starts, its own included.
    public static func setPollingHook(_ body: (() -> Void)?) {
        pollingHook = body.map { PollingHook(thread: pthread_self(), body: $0) }
    }
}
