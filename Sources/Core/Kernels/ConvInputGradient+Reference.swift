// Legend as in ConvInputGradient.swift.

extension ConvInputGradient {
    /// The plain loops the fast kernels are tested against: for one image,
    /// dx[C, H, W] = Σ_{o, ky, kx} W[o, c, ky, kx] · dY[o, oy, ox] over the
    /// outputs that read each input value, summed in Double.
    /// - Parameters:
    ///   - gradOut: dY [O, OH·OW] of the image.
    ///   - weight: W [O, C, KH, KW].
    public static func reference(_ dx: UnsafeMutablePointer<Float>, gradOut: UnsafePointer<Float>,
                                 weight: UnsafePointer<Float>, outChannels: Int, geometry g: ConvGeometry) {
        let k = g.kernel
        for c in 0..<g.channels {
            for iy in 0..<g.height {
                for ix in 0..<g.width {
                    var sum: Double = 0
                    for o in 0..<outChannels {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let sy = iy + g.padding - ky, sx = ix + g.padding - kx
                                guard sy >= 0, sx >= 0, sy % g.stride == 0, sx % g.stride == 0 else { continue }
                                let oy = sy / g.stride, ox = sx / g.stride
                                guard oy < g.outHeight, ox < g.outWidth else { continue }
                                sum += Double(weight[((o * g.channels + c) * k + ky) * k + kx])
                                    * Double(gradOut[(o * g.outHeight + oy) * g.outWidth + ox])
                            }
                        }
                    }
                    dx[(c * g.height + iy) * g.width + ix] = Float(sum)
                }
            }
        }
    }
}
