import Core

/// A cheap fingerprint of a network's state (FNV-1a over the bit patterns of
/// every parameter and buffer), compared across ranks to catch divergence.
public enum ParameterHash {
    public static func of(_ network: Network) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for store in [network.parameters, network.buffers] {
            for v in store.values {
                h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3
            }
        }
        return h
    }

    /// Ranks whose fingerprint differs from rank 0's (empty when all agree).
    public static func divergentRanks(_ network: Network, _ communicator: Communicator) -> [Int] {
        let all = communicator.allgather(of(network))
        return all.indices.filter { all[$0] != all[0] }
    }
}
