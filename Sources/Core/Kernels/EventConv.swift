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

    /// out[P, O] = the convolution of image `i` of `events`:
    /// `out[p, :] = Σ v · weightT[k·C + c, :]` over the events v (channel c)
    /// that kernel offset k takes to output pixel p. Binary events (one value)
    /// take the gather kernel, varied values the scatter kernel.
    public static func forward(out: UnsafeMutablePointer<Float>, events: InputEvents, image i: Int,
                               weightT: UnsafePointer<Float>, outChannels o: Int, geometry g: ConvGeometry) {
        if !events.pixelBits.isEmpty {
            if o % 64 == 0 {
                forwardGather(RowBlock64.self, out: out, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
            } else if o % 32 == 0 {
                forwardGather(RowBlock32.self, out: out, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
            } else {
                forwardGather(RowBlock8.self, out: out, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
            }
        } else if o % 64 == 0 {
            forward(RowBlock64.self, out: out, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
        } else if o % 32 == 0 {
            forward(RowBlock32.self, out: out, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
        } else {
            forward(RowBlock8.self, out: out, events: events, image: i, weightT: weightT, outChannels: o, geometry: g)
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

    /// gradWeightT[K, O] += the weight gradient of image `i` of `events`:
    /// `gradWeightT[k, :] += v · gradOutT[p, :]` for every event v and kernel
    /// offset k that reaches output pixel p. `gradOutT` is dY of the image,
    /// [P, O]. A block of each gradient row sums in registers over the
    /// channel's events.
    public static func weightGradient(gradWeightT: UnsafeMutablePointer<Float>, events: InputEvents, image i: Int,
                                      gradOutT: UnsafePointer<Float>, outChannels o: Int, geometry g: ConvGeometry) {
        if o % 64 == 0 {
            weightGradient(RowBlock64.self, gradWeightT: gradWeightT, events: events, image: i, gradOutT: gradOutT, outChannels: o, geometry: g)
        } else if o % 32 == 0 {
            weightGradient(RowBlock32.self, gradWeightT: gradWeightT, events: events, image: i, gradOutT: gradOutT, outChannels: o, geometry: g)
        } else {
            weightGradient(RowBlock8.self, gradWeightT: gradWeightT, events: events, image: i, gradOutT: gradOutT, outChannels: o, geometry: g)
        }
    }

    @inline(__always)
    static func weightGradient<Block: RowBlock>(_: Block.Type, gradWeightT: UnsafeMutablePointer<Float>, events: InputEvents, image i: Int,
                                                gradOutT: UnsafePointer<Float>, outChannels o: Int, geometry g: ConvGeometry) {
        let kk = g.kernel * g.kernel, s = g.stride
        let fullBlocks = o / Block.width * Block.width
        let uniform = events.values.isEmpty
        // With stride S an offset reaches output pixels only from inputs with
        // (iy, ix) ≡ (ky − P, kx − P) mod S: a channel's events sorted into
        // these S² classes let each offset visit only its own class.
        let sortedCoordinates = UnsafeMutablePointer<UInt32>.allocate(capacity: s == 1 ? 1 : max(1, events.count))
        let sortedValues = UnsafeMutablePointer<Float>.allocate(capacity: s == 1 || uniform ? 1 : max(1, events.count))
        defer { sortedCoordinates.deallocate(); sortedValues.deallocate() }
        var classStart = [Int](repeating: 0, count: s * s + 1), next = classStart
        events.coordinates.withUnsafeBufferPointer { coordinate in
            events.values.withUnsafeBufferPointer { value in
                for c in 0..<g.channels {
                    let segment = events.segment(image: i, channel: c)
                    guard !segment.isEmpty else { continue }
                    var classCoordinates = UnsafePointer(coordinate.baseAddress! + segment.lowerBound)
                    var classValues = uniform ? nil : UnsafePointer(value.baseAddress! + segment.lowerBound)
                    if s > 1 {
                        @inline(__always) func parity(_ e: Int) -> Int {
                            let iy = Int(coordinate[e] >> 16), ix = Int(coordinate[e] & 0xFFFF)
                            return s == 2 ? (iy & 1) << 1 | ix & 1 : iy % s * s + ix % s
                        }
                        for q in classStart.indices { classStart[q] = 0 }
                        for e in segment { classStart[parity(e) + 1] += 1 }
                        for q in 0..<(s * s) { classStart[q + 1] += classStart[q] }
                        for q in classStart.indices { next[q] = classStart[q] }
                        for e in segment {
                            let q = parity(e)
                            sortedCoordinates[next[q]] = coordinate[e]
                            if !uniform { sortedValues[next[q]] = value[e] }
                            next[q] += 1
                        }
                        classCoordinates = UnsafePointer(sortedCoordinates)
                        classValues = uniform ? nil : UnsafePointer(sortedValues)
                    }
                    for k in 0..<kk {
                        let ky = k / g.kernel, kx = k % g.kernel
                        let wanted = s == 1 ? 0 : ((ky - g.padding) % s + s) % s * s + ((kx - g.padding) % s + s) % s
                        let members = s == 1 ? 0..<segment.count : classStart[wanted]..<classStart[wanted + 1]
                        let row = gradWeightT + (k * g.channels + c) * o
                        for block in stride(from: 0, to: fullBlocks, by: Block.width) {
                            var sum = Block(row + block)
                            for e in members {
                                guard let p = outputPixel(classCoordinates[e], ky: ky, kx: kx, g) else { continue }
                                sum = sum.adding(Block(gradOutT + p * o + block), times: classValues?[e] ?? events.uniformValue)
                            }
                            sum.store(row + block)
                        }
                        for lane in fullBlocks..<o {
                            for e in members {
                                guard let p = outputPixel(classCoordinates[e], ky: ky, kx: kx, g) else { continue }
                                row[lane] = row[lane].addingProduct(classValues?[e] ?? events.uniformValue, gradOutT[p * o + lane])
                            }
                        }
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

    /// weightT[KH·KW, C, O] ← weight[O, C, KH, KW] (`offsets` = KH·KW).
    public static func offsetMajor(_ weightT: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>,
                                   outChannels o: Int, channels c: Int, offsets: Int) {
        for oo in 0..<o {
            for cc in 0..<c {
                for k in 0..<offsets { weightT[(k * c + cc) * o + oo] = weight[(oo * c + cc) * offsets + k] }
            }
        }
    }

    /// weightT[KH·KW, C, O] ← rows[C·KH·KW, O] (rows in weight order c, ky, kx): whole rows move.
    public static func offsetMajorRows(_ weightT: UnsafeMutablePointer<Float>, _ rows: UnsafePointer<Float>,
                                       outChannels o: Int, channels c: Int, offsets: Int) {
        for cc in 0..<c {
            for k in 0..<offsets {
                (weightT + (k * c + cc) * o).update(from: rows + (cc * offsets + k) * o, count: o)
            }
        }
    }

    /// weight[O, C, KH, KW] ← weightT[KH·KW, C, O] (`offsets` = KH·KW): the inverse of `offsetMajor`.
    public static func outputMajor(_ weight: UnsafeMutablePointer<Float>, _ weightT: UnsafePointer<Float>,
                                   outChannels o: Int, channels c: Int, offsets: Int) {
        for oo in 0..<o {
            for cc in 0..<c {
                for k in 0..<offsets { weight[(oo * c + cc) * offsets + k] = weightT[(k * c + cc) * o + oo] }
            }
        }
    }

    /// dst[columns, rows] = src[rows, columns]ᵀ (src row stride `ld`).
    public static func transpose(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>,
                                 rows: Int, columns: Int, ld: Int) {
        // 8×8 tiles keep both sides in cache lines.
        for r0 in stride(from: 0, to: rows, by: 8) {
            let r1 = min(r0 + 8, rows)
            for c0 in stride(from: 0, to: columns, by: 8) {
                let c1 = min(c0 + 8, columns)
                for r in r0..<r1 {
                    for c in c0..<c1 { dst[c * rows + r] = src[r * ld + c] }
                }
            }
        }
    }
}
