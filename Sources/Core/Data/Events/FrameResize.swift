// Legend: P planes (frames × polarities), H×W input, OH×OW output.

/// Antialiased bilinear resizing of frame planes, as PyTorch's
/// `F.interpolate(mode="bilinear", align_corners=False, antialias=True)` and
/// PIL's `BILINEAR` resampling (which the original's `Resize(48)` applies):
/// output pixel i averages the inputs around its centre `c = (i + ½)·s`
/// (`s = in/out`) with triangle weights `max(0, 1 − |j + ½ − c| / max(s, 1))`
/// normalised to sum 1; widths first, then heights.
public enum FrameResize {
    /// Weights of one axis: for each output index, the first input index and its weights.
    static func weights(input: Int, output: Int) -> [(first: Int, weights: [Double])] {
        let scale = Double(input) / Double(output)
        let support = scale >= 1 ? scale : 1
        let inverse = scale >= 1 ? 1 / scale : 1
        return (0..<output).map { i in
            let centre = scale * (Double(i) + 0.5)
            let lower = max(Int(centre - support + 0.5), 0)
            let upper = min(Int(centre + support + 0.5), input)
            var w = (lower..<upper).map { j in max(0, 1 - abs((Double(j) - centre + 0.5) * inverse)) }
            let total = w.reduce(0, +)
            if total > 0 { w = w.map { $0 / total } }
            return (lower, w)
        }
    }

    /// `[P, OH, OW]` from `[P, H, W]`.
    public static func resize(_ planes: [Float], planes p: Int, height h: Int, width w: Int,
                              toHeight oh: Int, width ow: Int) -> [Float] {
        precondition(planes.count == p * h * w, "FrameResize: \(planes.count) values for \(p)×\(h)×\(w)")
        let across = weights(input: w, output: ow), down = weights(input: h, output: oh)
        var wide = [Float](repeating: 0, count: p * h * ow)
        for plane in 0..<p {
            for y in 0..<h {
                let row = (plane * h + y) * w
                for (x, entry) in across.enumerated() {
                    var sum = 0.0
                    for (k, weight) in entry.weights.enumerated() { sum += weight * Double(planes[row + entry.first + k]) }
                    wide[(plane * h + y) * ow + x] = Float(sum)
                }
            }
        }
        var out = [Float](repeating: 0, count: p * oh * ow)
        for plane in 0..<p {
            for (y, entry) in down.enumerated() {
                for x in 0..<ow {
                    var sum = 0.0
                    for (k, weight) in entry.weights.enumerated() {
                        sum += weight * Double(wide[(plane * h + entry.first + k) * ow + x])
                    }
                    out[(plane * oh + y) * ow + x] = Float(sum)
                }
            }
        }
        return out
    }
}
