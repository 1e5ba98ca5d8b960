/// Rank numbers as a phrase for messages.
public enum RankList {
    /// "rank 4", "ranks 0-3", "ranks 0-2, 5": ascending ranks with runs as
    /// ranges; past `limit` runs, the first ones and how many ranks in all.
    public static func phrase(_ ranks: [Int], limit: Int = 8) -> String {
        var parts: [String] = []
        var start = 0
        while start < ranks.count {
            var end = start
            while end + 1 < ranks.count && ranks[end + 1] == ranks[end] + 1 { end += 1 }
            parts.append(end == start ? "\(ranks[start])" : "\(ranks[start])-\(ranks[end])")
            start = end + 1
        }
        let shown = parts.count > limit ? parts.prefix(limit).joined(separator: ", ") + ", … (\(ranks.count) in all)"
            : parts.joined(separator: ", ")
        return (ranks.count == 1 ? "rank " : "ranks ") + shown
    }
}
