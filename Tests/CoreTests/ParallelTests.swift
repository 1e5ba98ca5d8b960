import XCTest
@testable import Core

/// `Parallel` hands out indices dynamically: every index must run exactly
/// once, whatever the worker count, and `forEachRange` must tile its range.
final class ParallelTests: XCTestCase {
    override func tearDown() {
        Parallel.configure(workers: 1)
        Parallel.setPollingHook(nil)
        super.tearDown()
    }

    func testForEachRunsEveryIndexExactlyOnce() {
        for workers in [1, 2, 3, 20] {
            Parallel.configure(workers: workers)
            for count in [0, 1, 2, 7, 8, 9, 1023] {
                let visits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                defer { visits.deallocate() }
                visits.initialize(repeating: 0, count: max(count, 1))
                Parallel.forEach(count) { visits[$0] += 1 }
                let wrong = (0..<count).filter { visits[$0] != 1 }
                XCTAssertEqual(wrong, [], "\(workers) workers, count \(count): indices not run exactly once")
            }
        }
    }

    func testForEachRangeTilesTheRange() {
        for workers in [1, 2, 3, 20] {
            Parallel.configure(workers: workers)
            for (count, grain) in [(0, 16), (5, 16), (16, 16), (17, 16), (1000, 16), (1 << 16, 1 << 16),
                                   (1_000_003, 1 << 16)] {
                let lock = NSLock()
                var ranges: [Range<Int>] = []
                Parallel.forEachRange(count, grain: grain) { range in lock.lock(); ranges.append(range); lock.unlock() }
                let pieces = ranges.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
                var next = 0
                for piece in pieces {
                    XCTAssertEqual(piece.lowerBound, next, "\(workers) workers, count \(count): gap or overlap at \(next)")
                    next = piece.upperBound
                }
                XCTAssertEqual(next, count, "\(workers) workers, count \(count): ranges end at \(next)")
                if workers > 1, count >= grain { XCTAssertGreaterThan(pieces.count, 1, "count \(count) not split") }
                if count < grain { XCTAssertLessThanOrEqual(ranges.count, 1, "count \(count) below the grain split") }
            }
        }
    }

    /// A worker that stalls does not hold its share: the other threads take
    /// the indices it has not started (with a static split, index 2 would
    /// wait for the stalled worker's first index).
    func testAStalledWorkerLeavesItsShareToTheOthers() {
        Parallel.configure(workers: 2)
        let lock = NSLock()
        var threadOf: [Int: String] = [:]
        Parallel.forEach(8) { i in
            if i == 0 { Thread.sleep(forTimeInterval: 0.3) }
            lock.lock(); threadOf[i] = "\(pthread_self())"; lock.unlock()
        }
        let stalled = threadOf[0]!
        let byStalled = threadOf.filter { $0.value == stalled }.map(\.key)
        XCTAssertEqual(byStalled, [0], "the stalled worker also ran \(byStalled.sorted())")
    }

    /// The polling hook (how the MPI reducer moves gradient buckets on during
    /// backward) runs between indices on the thread that installed it, and
    /// never on another thread: MPI calls only from the main thread.
    func testThePollingHookRunsOnTheInstallingThreadOnly() {
        Parallel.configure(workers: 2)
        let me = pthread_self()
        let lock = NSLock()
        var calls = 0, foreign = 0
        Parallel.setPollingHook {
            lock.lock(); defer { lock.unlock() }
            if pthread_equal(pthread_self(), me) != 0 { calls += 1 } else { foreign += 1 }
        }
        Parallel.forEach(64) { _ in usleep(200) }
        XCTAssertGreaterThan(calls, 0, "the hook never ran during forEach")
        XCTAssertLessThanOrEqual(calls, 64)
        let before = calls
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            Parallel.forEach(64) { _ in usleep(200) }
            done.signal()
        }
        done.wait()
        XCTAssertEqual(calls, before, "forEach started on another thread ran the hook")
        XCTAssertEqual(foreign, 0, "the hook ran on a worker thread")
        Parallel.setPollingHook(nil)
        Parallel.forEach(64) { _ in }
        XCTAssertEqual(calls, before, "a removed hook still ran")
    }
}
