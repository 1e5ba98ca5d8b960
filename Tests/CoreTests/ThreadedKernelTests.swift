import Foundation
import XCTest
@testable import Core

/// The kernels that run on worker threads, each on sizes that split over
/// several workers: the same bits as on one thread. ThreadSanitizer runs
/// this class (`tools/sanitize.sh thread --quick`), so a data race between
/// the workers stops the test.
final class ThreadedKernelTests: XCTestCase {
    /// Workers for the threaded runs: more than the machine's cores, so
    /// threads interleave even on two cores.
    let threads = 4

    override func tearDown() {
        Parallel.configure(workers: 1)
        Conv2d.eventDensityLimit = 0.25
    }

    func onWorkers<R>(_ workers: Int, _ body: () throws -> R) rethrows -> R {
        Parallel.configure(workers: workers)
        defer { Parallel.configure(workers: 1) }
        return try body()
    }

    func assertSameBits(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "\(what): \(differing) of \(a.count) values differ between 1 and \(threads) workers",
                       file: file, line: line)
    }

    /// `forEach` runs every index once, on threads that overlap in time;
    /// `forEachRange` splits a count at or above its grain into several ranges
    /// per worker (up to four), disjoint and covering it.
    func testParallelRunsEveryIndexOnceOnSeveralThreads() {
        let lock = NSCondition()
        var inFlight = 0, mostInFlight = 0
        var visits = [Int](repeating: 0, count: 64)
        onWorkers(threads) {
            visits.withUnsafeMutableBufferPointer { visits in
                Parallel.forEach(visits.count) { i in
                    visits[i] += 1
                    // The first indices wait (up to 10 s) for a second thread to be
                    // inside the loop at the same time.
                    lock.lock()
                    inFlight += 1
                    mostInFlight = max(mostInFlight, inFlight)
                    lock.broadcast()
                    let deadline = Date(timeIntervalSinceNow: 10)
                    while i < threads, mostInFlight < 2, lock.wait(until: deadline) {}
                    inFlight -= 1
                    lock.unlock()
                }
            }
        }
        XCTAssertEqual(visits, [Int](repeating: 1, count: 64))
        XCTAssertGreaterThanOrEqual(mostInFlight, 2, "forEach ran its indices on one thread at a time")

        let count = (1 << 16) * 3 + 5
        var hits = [UInt8](repeating: 0, count: count)
        var ranges: [Range<Int>] = []
        onWorkers(threads) {
            hits.withUnsafeMutableBufferPointer { hits in
                Parallel.forEachRange(count) { range in
                    for i in range { hits[i] += 1 }
                    lock.lock(); ranges.append(range); lock.unlock()
                }
            }
        }
        XCTAssertTrue((threads...(4 * threads)).contains(ranges.count), "\(ranges.count) ranges for \(threads) workers")
        XCTAssertTrue(hits.allSatisfy { $0 == 1 }, "every element once")
    }

    /// The exact reduction's split passes (exponent, accumulation, finish)
    /// over ranges of 3·2¹⁶ + 7 elements, alone and through `LocalReducer`.
    func testExactSumSplitPasses() {
        let chunks = 3, count = (1 << 16) * 3 + 7
        var stream = RandomStream(seed: 21, 4)
        // Magnitudes over many binades, so the exponent pass has work to agree on.
        let partials = (0..<chunks * count).map { i in stream.normal() * Float(1 << (i % 23)) / 4096 }
        func reduce() -> (exponent: Int32, direct: [Float], reducer: [Float], deferred: [Float]) {
            let exponent = partials.withUnsafeBufferPointer { ExactSum.exponentOnWorkers(of: $0.baseAddress!, count: $0.count) }
            var direct = [Float](repeating: .nan, count: count)
            partials.withUnsafeBufferPointer { p in
                direct.withUnsafeMutableBufferPointer { ExactSum.sum(p.baseAddress!, chunks: chunks, count: count, into: $0.baseAddress!) }
            }
            let reducer = LocalReducer()
            var deferred: [Float] = []
            reducer.sumDeferred(partials, chunks: chunks, count: count) { deferred = $0 }
            reducer.finishPending()
            return (exponent, direct, reducer.sum(partials, chunks: chunks, count: count), deferred)
        }
        let one = reduce(), many = onWorkers(threads, reduce)
        XCTAssertEqual(many.exponent, one.exponent)
        XCTAssertEqual(one.exponent, partials.withUnsafeBufferPointer { ExactSum.exponent(of: $0.baseAddress!, count: $0.count) })
        XCTAssertFalse(one.direct.contains { $0.isNaN })
        assertSameBits(many.direct, one.direct, "ExactSum.sum")
        assertSameBits(many.reducer, one.direct, "LocalReducer.sum")
        assertSameBits(many.deferred, one.direct, "LocalReducer.sumDeferred")
    }

    /// A convolution forced onto the event kernels, each of 8 chunks on a
    /// worker, forward and backward; 40 output channels make three blocks
    /// for the threaded weight relayout.
    func testEventConvolutionOnWorkers() {
        func run() -> [Float] {
            Conv2d.eventDensityLimit = 1
            let builder = ModelBuilder(seed: 4)
            let conv = Conv2d(builder, "c", inChannels: 6, outChannels: 40, kernel: 3, stride: 1, padding: 1)
            var stream = RandomStream(seed: 9, 1)
            let x = Tensor(shape: [2, 8, 6, 7, 7], data: (0..<2 * 8 * 6 * 49).map { _ in stream.uniform() < 0.2 ? 1 : 0 })
            let ctx = context(batch: 8, chunkSize: 1, timeSteps: 2)
            let y = conv.forward(x, ctx)
            let dx = conv.backward(randomTensor(y.shape, seed: 10), ctx)
            ctx.reducer.finishPending()
            return y.data + dx.data + builder.parameters.gradients
        }
        let one = run()
        XCTAssertTrue(one.allSatisfy(\.isFinite))
        assertSameBits(onWorkers(threads, run), one, "event convolution")
    }

    /// BatchNorm's per-chunk statistics and elementwise loops, training
    /// forward and backward over 6 chunks.
    func testBatchNormOnWorkers() {
        func run() -> [Float] {
            let builder = ModelBuilder(seed: 2)
            let bn = BatchNorm2d(builder, "bn", channels: 5)
            let x = randomTensor([3, 12, 5, 6, 6], seed: 12, scale: 2, shift: 0.5)
            let ctx = context(batch: 12, chunkSize: 2, timeSteps: 3)
            let y = bn.forward(x, ctx)
            let dx = bn.backward(randomTensor(y.shape, seed: 13), ctx)
            ctx.reducer.finishPending()
            return y.data + dx.data + builder.parameters.gradients + builder.buffers.values
        }
        let one = run()
        XCTAssertTrue(one.allSatisfy(\.isFinite))
        assertSameBits(onWorkers(threads, run), one, "BatchNorm2d")
    }

    /// SGD and AdamW steps over ranges of 3·2¹⁶ + 1 parameters, twice (with
    /// and without state).
    func testOptimizerStepsOnWorkers() {
        let count = (1 << 16) * 3 + 1
        let start = randomTensor([count], seed: 14).data, gradients = randomTensor([count], seed: 15).data
        for (name, make) in [("SGD", { SGD() as Optimizer }), ("AdamW", { AdamW() as Optimizer })] {
            func run() -> [Float] {
                let optimizer = make()
                var parameters = start
                optimizer.step(parameters: &parameters, gradients: gradients)
                optimizer.step(parameters: &parameters, gradients: gradients)
                return parameters + optimizer.state.keys.sorted().flatMap { optimizer.state[$0]! }
            }
            assertSameBits(onWorkers(threads, run), run(), name)
        }
    }
}
