// Legend as in EventConv.swift: C input channels, H×W input, KH = KW =
// kernel, O output channels, OH×OW output, S stride, P zero padding.
//
// The convolution and its weight gradient, per image:
//   y[o, oy, ox]       = b[o] + Σ_{c, ky, kx} W[o, c, ky, kx] · x[c, oy·S − P + ky, ox·S − P + kx]
//   dW[o, c, ky, kx]  += Σ_{oy, ox} dY[o, oy, ox] · x[c, oy·S − P + ky, ox·S − P + kx]
// where x is zero outside the image.

extension EventConv {
    /// The plain loops the forward kernels (`EventConv.forward`, and
    /// `ConvForward` on both paths) are tested against: for one image,
    /// y[O, OH, OW] = the convolution of x (+ bias), summed in Double.
    /// - Parameters:
    ///   - image: x [C, H, W].
    ///   - weight: W [O, C, KH, KW].
    ///   - bias: [O], or nil for none.
    public static func reference(_ y: UnsafeMutablePointer<Float>, image x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: [Float]?, outChannels: Int, geometry g: ConvGeometry) {
        for o in 0..<outChannels {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    var sum = Double(bias?[o] ?? 0)
                    forEachTap(oy, ox, g) { c, ky, kx, input in
                        sum += Double(x[input]) * Double(weight[((o * g.channels + c) * g.kernel + ky) * g.kernel + kx])
                    }
                    y[(o * g.outHeight + oy) * g.outWidth + ox] = Float(sum)
                }
            }
        }
    }

    /// The plain loops the weight-gradient kernels (`EventConv.weightGradient`,
    /// and `ConvWeightGradient` on both paths) are tested against: for one
    /// image, dW[O, C, KH, KW] += Σ dY · x over the output pixels, summed in
    /// Double per call.
    /// - Parameters:
    ///   - image: x [C, H, W].
    ///   - gradOut: dY [O, OH, OW] of the image.
    public static func referenceWeightGradient(_ gradWeight: UnsafeMutablePointer<Float>, image x: UnsafePointer<Float>,
                                               gradOut: UnsafePointer<Float>, outChannels: Int, geometry g: ConvGeometry) {
        let taps = g.patch
        for o in 0..<outChannels {
            var sums = [Double](repeating: 0, count: taps)
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    let dy = Double(gradOut[(o * g.outHeight + oy) * g.outWidth + ox])
                    forEachTap(oy, ox, g) { c, ky, kx, input in
                        sums[(c * g.kernel + ky) * g.kernel + kx] += dy * Double(x[input])
                    }
                }
            }
            for tap in 0..<taps { gradWeight[o * taps + tap] += Float(sums[tap]) }
        }
    }

    /// Calls `body(c, ky, kx, i)` for every input value x[i] = x[c, iy, ix]
    /// inside the image that output pixel (oy, ox) reads through (ky, kx).
    private static func forEachTap(_ oy: Int, _ ox: Int, _ g: ConvGeometry, _ body: (Int, Int, Int, Int) -> Void) {
        for c in 0..<g.channels {
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                    guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                    body(c, ky, kx, (c * g.height + iy) * g.width + ix)
                }
            }
        }
    }
}
