// Legend: C input channels, H×W input, KH = KW = kernel, O output channels,
// OH×OW output (P pixels), S stride, P zero padding. The event kernels read
// the weight as `weightT` [KH·KW, C, O] (row `k·C + c` for kernel offset
// k = ky·KW + kx), so that one input pixel's channels pick rows of one block.
// An event is a nonzero input value at (c, iy, ix): the spikes (times a
// dropout scale) that feed most convolutions of a spiking network.

public enum EventConv {
    // The public kernels pick the widest register block that divides O with an
    // explicit `if` per width, and the generic kernels are `@inline(__always)`,
    // so each width is a specialised copy: left unspecialised (block type as a
    // parameter at run time) they call through witness tables, measured at
    // about half the speed (forward gather, 8.6 vs 15.7 G additions/s, one core).

    /// Output values (256 KB) a band of the scatter kernel holds while every
    /// channel's events are added to it. Measured: 4 K-value (L1-sized) bands
    /// were slower, their short event loops costing more than the cache misses.
    static let bandValues = 65536

    /// Values (256 KB) of the output or output-gradient tile that the tiled
    /// kernels keep in cache while a slice of the weight passes over it.
    static let tileValues = 65536

    /// Bytes of one register block's column of `weightT` (K rows) above which
    /// the binary forward kernel takes the weight one kernel offset at a time
    /// over a tile of images (`forwardGatherTiled`) instead of walking the
    /// whole column for every output pixel: 0, so every kernel larger than
    /// 1×1 takes it (O a multiple of 64). One offset's rows (C·64 values, 32
    /// KB for 128 channels) stay in L1 while they pass over the tile, where
    /// the per-pixel gather reads the whole column from L2 for every output
    /// pixel. Measured on the ResNet-18 step (T 6, b 32): the forward event
    /// kernels took 23 % fewer CPU samples than with the earlier limit of
    /// 512 KB, which left layer1 and layer2 to the per-pixel gather. A
    /// variable so tests can force either kernel.
    nonisolated(unsafe) static var gatherColumnLimit = 0

    /// out[P, O] per image = the convolution of the images `images` of
    /// `events` (out holds them in order): `out[p, :] = Σ v · weightT[k·C + c, :]`
    /// over the events v (channel c) that kernel offset k takes to output
    /// pixel p. Binary events (one value) take a gather kernel, varied values
    /// the scatter kernel.
    public static func forward(out: UnsafeMutablePointer<Float>, events: InputEvents, images: Range<Int>,
                               weightT: UnsafePointer<Float>, outChannels o: Int, geometry g: ConvGeometry) {
        let outImage = g.outPixels * o
        if !events.pixelBits.isEmpty {
            let tiled = g.kernel > 1 && g.patch * 64 * MemoryLayout<Float>.size > gatherColumnLimit
            if o % 64 == 0 {
                if tiled {
                    forwardGatherTiled(RowBlock64.self, out: out, events: events, images: images, weightT: weightT, outChannels: o, geometry: g)
                    return
                }
                for (j, i) in images.enumerated() {
                    forwardGather(RowBlock64.self, out: out + j * outImage, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
                }
            } else if o % 32 == 0 {
                for (j, i) in images.enumerated() {
                    forwardGather(RowBlock32.self, out: out + j * outImage, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
                }
            } else {
                for (j, i) in images.enumerated() {
                    forwardGather(RowBlock8.self, out: out + j * outImage, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
                }
            }
        } else {
            for (j, i) in images.enumerated() {
                if o % 64 == 0 {
                    forward(RowBlock64.self, out: out + j * outImage, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
                } else if o % 32 == 0 {
                    forward(RowBlock32.self, out: out + j * outImage, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
                } else {
                    forward(RowBlock8.self, out: out + j * outImage, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
                }
            }
        }
    }

    /// The scatter kernel (out zeroed first): output rows in bands of
    /// `bandValues`; within a band, one block of a weight row stays in
    /// registers while the channel's events add it to their output pixels.
    @inline(__always)
    static func forward<Block: RowBlock>(_: Block.Type, out: UnsafeMutablePointer<Float>, events: InputEvents, image i: Int,
                                         weightT: UnsafePointer<Float>, outChannels o: Int, geometry g: ConvGeometry) {
        out.update(repeating: 0, count: g.outPixels * o)
        let fullBlocks = o / Block.width * Block.width
        let bandRows = max(1, bandValues / max(1, g.outWidth * o))
        events.coordinates.withUnsafeBufferPointer { coordinate in
            events.values.withUnsafeBufferPointer { value in
                for band in stride(from: 0, to: g.outHeight, by: bandRows) {
                    let rows = band..<min(band + bandRows, g.outHeight)
                    for c in 0..<g.channels {
                        let segment = events.segment(image: i, channel: c)
                        guard !segment.isEmpty else { continue }
                        for ky in 0..<g.kernel {
                            // The events whose row ky takes into the band: iy = oy·S − P + ky.
                            let first = firstEvent(atRow: rows.lowerBound * g.stride - g.padding + ky, coordinate, segment)
                            let end = firstEvent(atRow: (rows.upperBound - 1) * g.stride - g.padding + ky + 1, coordinate, first..<segment.upperBound)
                            guard first < end else { continue }
                            for kx in 0..<g.kernel {
                                let k = ky * g.kernel + kx
                                let row = weightT + (k * g.channels + c) * o
                                for block in stride(from: 0, to: fullBlocks, by: Block.width) {
                                    let w = Block(row + block)
                                    for e in first..<end {
                                        guard let p = outputPixel(coordinate[e], ky: ky, kx: kx, g) else { continue }
                                        let target = out + p * o + block
                                        Block(target).adding(w, times: value.isEmpty ? events.uniformValue : value[e]).store(target)
                                    }
                                }
                                for lane in fullBlocks..<o {
                                    for e in first..<end {
                                        guard let p = outputPixel(coordinate[e], ky: ky, kx: kx, g) else { continue }
                                        let v = value.isEmpty ? events.uniformValue : value[e]
                                        out[p * o + lane] = out[p * o + lane].addingProduct(v, row[lane])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// out[P, O] = the convolution of image `i` of binary `events` (one
    /// value v): `out[p, :] = v · Σ weightT[k·C + c, :]` over the set bits
    /// (c) of the input pixels in p's window (offset k). Each block of an
    /// output row sums in registers — a gather, as fast per addition as a
    /// GEMM's inner loop.
    @inline(__always)
    static func forwardGather<Block: RowBlock>(_: Block.Type, out: UnsafeMutablePointer<Float>, events: InputEvents, image i: Int,
                                               weightT: UnsafePointer<Float>, outChannels o: Int, geometry g: ConvGeometry) {
        let words = events.words, c = g.channels
        let fullBlocks = o / Block.width * Block.width
        let v = events.uniformValue
        events.pixelBits.withUnsafeBufferPointer { pixelBits in
            let image = pixelBits.baseAddress! + i * g.inPixels * words
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    let target = out + (oy * g.outWidth + ox) * o
                    for block in stride(from: 0, to: fullBlocks, by: Block.width) {
                        var sum = Block.zero
                        forEachWindowBit(image, oy: oy, ox: ox, words: words, g) { k, channel in
                            sum = sum.plus(Block(weightT + (k * c + channel) * o + block))
                        }
                        (v == 1 ? sum : sum.scaled(by: v)).store(target + block)
                    }
                    for lane in fullBlocks..<o {
                        var sum: Float = 0
                        forEachWindowBit(image, oy: oy, ox: ox, words: words, g) { k, channel in
                            sum += weightT[(k * c + channel) * o + lane]
                        }
                        target[lane] = v == 1 ? sum : sum * v
                    }
                }
            }
        }
    }

    /// `forwardGather` for a weight too large for L2: one kernel offset's rows
    /// of one block column (C·64 values) at a time pass over the outputs of a
    /// tile of images (`tileValues`), each output block loaded, summed into
    /// and stored once per offset. Offsets ascend and channels ascend within
    /// one, so every output adds the same rows in the same order as
    /// `forwardGather`: the results are equal bit for bit. O is a multiple of
    /// 64.
    @inline(__always)
    static func forwardGatherTiled<Block: RowBlock>(_: Block.Type, out: UnsafeMutablePointer<Float>, events: InputEvents, images: Range<Int>,
                                                    weightT: UnsafePointer<Float>, outChannels o: Int, geometry g: ConvGeometry) {
        let words = events.words, c = g.channels, v = events.uniformValue
        let pixels = g.outPixels, outImage = pixels * o
        out.update(repeating: 0, count: images.count * outImage)
        let tileImages = max(1, tileValues / (pixels * Block.width))
        events.pixelBits.withUnsafeBufferPointer { pixelBits in
            for tile in stride(from: 0, to: images.count, by: tileImages) {
                let tileEnd = min(tile + tileImages, images.count)
                for block in stride(from: 0, to: o, by: Block.width) {
                    for ky in 0..<g.kernel {
                        for kx in 0..<g.kernel {
                            let rows = weightT + (ky * g.kernel + kx) * c * o + block
                            for j in tile..<tileEnd {
                                let image = pixelBits.baseAddress! + (images.lowerBound + j) * g.inPixels * words
                                for oy in 0..<g.outHeight {
                                    let iy = oy * g.stride - g.padding + ky
                                    guard iy >= 0 && iy < g.height else { continue }
                                    for ox in 0..<g.outWidth {
                                        let ix = ox * g.stride - g.padding + kx
                                        guard ix >= 0 && ix < g.width else { continue }
                                        let pixel = image + (iy * g.width + ix) * words
                                        let target = out + j * outImage + (oy * g.outWidth + ox) * o + block
                                        var sum = Block(target)
                                        for w in 0..<words {
                                            var bits = pixel[w]
                                            while bits != 0 {
                                                sum = sum.plus(Block(rows + (w * 64 + bits.trailingZeroBitCount) * o))
                                                bits &= bits - 1
                                            }
                                        }
                                        sum.store(target)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if v != 1 {
            for q in 0..<(images.count * outImage) { out[q] *= v }
        }
    }

    /// Calls `body(k, c)` for every set bit (channel c) of the input pixels
    /// in the window of output pixel (oy, ox), offset by offset (k = ky·KW + kx).
    @inline(__always)
    static func forEachWindowBit(_ image: UnsafePointer<UInt64>, oy: Int, ox: Int, words: Int, _ g: ConvGeometry,
                                 _ body: (Int, Int) -> Void) {
        for ky in 0..<g.kernel {
            let iy = oy * g.stride - g.padding + ky
            guard iy >= 0 && iy < g.height else { continue }
            for kx in 0..<g.kernel {
                let ix = ox * g.stride - g.padding + kx
                guard ix >= 0 && ix < g.width else { continue }
                let pixel = image + (iy * g.width + ix) * words
                for w in 0..<words {
                    var bits = pixel[w]
                    while bits != 0 {
                        body(ky * g.kernel + kx, w * 64 + bits.trailingZeroBitCount)
                        bits &= bits - 1
                    }
                }
            }
        }
    }

    /// The output pixel that kernel offset (ky, kx) takes the event at
    /// `coordinate` (`iy << 16 | ix`) to, if any.
    @inline(__always)
    static func outputPixel(_ coordinate: UInt32, ky: Int, kx: Int, _ g: ConvGeometry) -> Int? {
        let y = Int(coordinate >> 16) + g.padding - ky, x = Int(coordinate & 0xFFFF) + g.padding - kx
        guard y >= 0, x >= 0 else { return nil }
        if g.stride == 1 {
            guard y < g.outHeight, x < g.outWidth else { return nil }
            return y * g.outWidth + x
        }
        let oy = y / g.stride, ox = x / g.stride
        guard oy * g.stride == y, ox * g.stride == x, oy < g.outHeight, ox < g.outWidth else { return nil }
        return oy * g.outWidth + ox
    }

    /// The first event of `segment` at input row `row` or below it (events are in scan order).
    @inline(__always)
    static func firstEvent(atRow row: Int, _ coordinate: UnsafeBufferPointer<UInt32>, _ segment: Range<Int>) -> Int {
        guard row > 0 else { return segment.lowerBound }
        let key = UInt32(row << 16)
        var low = segment.lowerBound, high = segment.upperBound
        while low < high {
            let mid = (low + high) / 2
            if coordinate[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
