import Core

/// Where the ranks of a job run and which bits their kernels compute: each rank's host,
/// OpenBLAS core and `KernelProbe` fingerprint. Ranks with different fingerprints would break
/// "the same bits as one process" without the parameter hash noticing (every rank takes the
/// summed gradients, so the ranks stay equal to each other), so jobs compare them at start-up.
public struct Placement: Sendable {
    /// One rank as it reported itself.
    public struct Rank: Sendable, Equatable {
        public let host: String
        /// `Gemm.coreName`.
        public let blasCore: String
        /// `KernelProbe.fingerprint()`.
        public let fingerprint: UInt64

        public init(host: String, blasCore: String, fingerprint: UInt64) {
            self.host = host
            self.blasCore = blasCore
            self.fingerprint = fingerprint
        }
    }

    /// Indexed by rank.
    public let ranks: [Rank]

    public init(ranks: [Rank]) {
        precondition(!ranks.isEmpty, "Placement: no ranks")
        self.ranks = ranks
    }

    /// Every rank's host, OpenBLAS core and `fingerprint` (a collective: every rank calls it).
    public static func gather(_ communicator: Communicator, fingerprint: UInt64) -> Placement {
        let fingerprints = communicator.allgather(fingerprint)
        let hosts = communicator.allgather(communicator.processorName)
        let cores = communicator.allgather(Gemm.coreName)
        return Placement(ranks: fingerprints.indices.map {
            Rank(host: hosts[$0], blasCore: cores[$0], fingerprint: fingerprints[$0])
        })
    }

    /// The ranks grouped by fingerprint, each group in rank order, rank 0's group first.
    public var groups: [[Int]] {
        var order: [UInt64] = []
        var members: [UInt64: [Int]] = [:]
        for (rank, r) in ranks.enumerated() {
            if members[r.fingerprint] == nil { order.append(r.fingerprint) }
            members[r.fingerprint, default: []].append(rank)
        }
        return order.map { members[$0]! }
    }

    /// Whether every rank computed rank 0's bits.
    public var computesSameBits: Bool { ranks.allSatisfy { $0.fingerprint == ranks[0].fingerprint } }

    /// The OpenBLAS cores the ranks run, each once, in rank order.
    public var blasCores: [String] {
        var cores: [String] = []
        for r in ranks where !cores.contains(r.blasCore) { cores.append(r.blasCore) }
        return cores
    }

    /// The groups as a phrase: "ranks 0-3 on hostA (OpenBLAS core Haswell, probe 0f3c…) and
    /// ranks 4-7 on hostB (OpenBLAS core SkylakeX, probe 9a01…)".
    public var summary: String {
        groups.map(describe).joined(separator: " and ")
    }

    private func describe(_ group: [Int]) -> String {
        var hosts: [String] = []
        var ranksOnHost: [String: [Int]] = [:]
        for rank in group {
            let host = ranks[rank].host
            if ranksOnHost[host] == nil { hosts.append(host) }
            ranksOnHost[host, default: []].append(rank)
        }
        let cores = Placement(ranks: group.map { ranks[$0] }).blasCores
        let places = hosts.map { "\(RankList.phrase(ranksOnHost[$0]!, limit: .max)) on \($0)" }.joined(separator: ", ")
        let hex = String(ranks[group[0]].fingerprint, radix: 16)
        let probe = String(repeating: "0", count: 16 - hex.count) + hex
        return "\(places) (OpenBLAS core \(cores.joined(separator: "/")), probe \(probe))"
    }
}
