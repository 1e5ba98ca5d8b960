import Core
import Distributed
import Foundation
import XCTest

/// The engine's entry point on one process.
final class SessionTests: XCTestCase {
    struct Failure: Error {}

    func testOneProcessSessionAndItsOutcomes() throws {
        var heard: [KernelAgreement] = []
        try Session.run(allowHeterogeneous: false, kernels: { agreement, _ in heard.append(agreement) }) { session in
            XCTAssertEqual(session.size, 1)
            XCTAssertTrue(session.isLeader)
            XCTAssertEqual(session.shard, Shard())
            XCTAssertEqual(session.makeReducer().communicationSeconds, 0)
        }
        XCTAssertEqual(heard, [.identical], "one process has nothing to compare")
        XCTAssertThrowsError(try Session.run(allowHeterogeneous: false, kernels: { _, _ in }) { _ in
            throw OrderlyStop(status: 130)
        }) { XCTAssertEqual($0 as? OrderlyStop, OrderlyStop(status: 130)) }
        XCTAssertThrowsError(try Session.run(allowHeterogeneous: false, kernels: { _, _ in }) { _ in throw Failure() }) {
            XCTAssertTrue($0 is Failure, "a failure reaches the caller as it is: \($0)")
        }
    }
}
