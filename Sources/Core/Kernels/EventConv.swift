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

    /// Set by tests: every geometry takes the general weight-gradient kernel.
    nonisolated(unsafe) static var generalWeightGradient = false

    /// Bytes of one register block's column of `weightT` (K rows) above which
    /// the binary forward kernel takes the weight one kernel offset at a time
    /// over a tile of images (`forwardGatherTiled`) instead of walking the
    /// whole column for every output pixel. Below it the column stays in L2
    /// either way. A variable so tests can force either kernel.
    nonisolated(unsafe) static var gatherColumnLimit = 512 * 1024

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

    /// gradWeightT[K, O] += the weight gradient of every image of `events`:
    /// `gradWeightT[k·C + c, :] += v · dY[p, :]` for every event v (channel c)
    /// and kernel offset k that takes it to output pixel p. `gradOut` is dY
    /// of the images as [O, ld], image j at columns j·P ..< (j + 1)·P.
    ///
    /// A tile of images' dY (`tileValues`) is made pixel-major with a zero
    /// border, so that every offset of an event reads a row — a zero row when
    /// the offset takes it off the output — without bounds checks; the tile's
    /// events become, per channel and stride class, the offsets of their rows.
    /// A block of each gradient row then sums in registers over the channel's
    /// events of the tile, image by image in order: the additions of one
    /// image at a time in the same order (a zero row adds nothing).
    public static func weightGradient(gradWeightT: UnsafeMutablePointer<Float>, events: InputEvents,
                                      gradOut: UnsafePointer<Float>, ld: Int, outChannels o: Int, geometry g: ConvGeometry) {
        if g.kernel == 3 && g.stride == 1 && o % 8 == 0 && !generalWeightGradient {
            weightGradient3x3(gradWeightT: gradWeightT, events: events, gradOut: gradOut, ld: ld, outChannels: o, geometry: g)
        } else if o % 64 == 0 {
            weightGradient(RowBlock64.self, gradWeightT: gradWeightT, events: events, gradOut: gradOut, ld: ld, outChannels: o, geometry: g)
        } else if o % 32 == 0 {
            weightGradient(RowBlock32.self, gradWeightT: gradWeightT, events: events, gradOut: gradOut, ld: ld, outChannels: o, geometry: g)
        } else {
            weightGradient(RowBlock8.self, gradWeightT: gradWeightT, events: events, gradOut: gradOut, ld: ld, outChannels: o, geometry: g)
        }
    }

    /// Output-gradient values (32 KB) of the slab that `weightGradient3x3`
    /// keeps in L1: eight columns of a tile of images.
    static let slabValues = 8192

    /// `weightGradient` for a 3×3 kernel with stride 1 (most convolutions of
    /// a spiking ResNet or VGG) and O a multiple of 8. dY of a tile of images
    /// is cut into slabs of 8 columns, [O/8][pixels][8], each small enough
    /// for L1 (`slabValues`); for each slab and channel the 8 columns of all
    /// nine gradient rows (k, c) sum in registers while the channel's events
    /// pass once, each event reading the 3×3 neighbourhood of its dY. Every
    /// row adds the same events in the same order as the general kernel.
    static func weightGradient3x3(gradWeightT: UnsafeMutablePointer<Float>, events: InputEvents,
                                  gradOut: UnsafePointer<Float>, ld: Int, outChannels o: Int, geometry g: ConvGeometry) {
        precondition(g.kernel == 3 && g.stride == 1 && o % 8 == 0)
        let c = g.channels, images = events.imageCount, uniform = events.values.isEmpty
        // Event (iy, ix) reaches output (iy + P − ky, ix + P − kx): rows from iy + P − 2.
        let low = max(0, 2 - g.padding)
        let paddedWidth = low + max(g.outWidth, g.width + g.padding)
        let paddedPixels = (low + max(g.outHeight, g.height + g.padding)) * paddedWidth
        let tileImages = max(1, slabValues / (paddedPixels * 8))
        let slabSize = min(tileImages, images) * paddedPixels * 8
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: o / 8 * slabSize)
        tile.initialize(repeating: 0, count: o / 8 * slabSize)
        var tileEvents = 0
        for first in stride(from: 0, to: images, by: tileImages) {
            let end = min(first + tileImages, images)
            tileEvents = max(tileEvents, Int(events.segmentStart[end * c] - events.segmentStart[first * c]))
        }
        let offsets = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, tileEvents))
        let values = UnsafeMutablePointer<Float>.allocate(capacity: uniform ? 1 : max(1, tileEvents))
        // gradWeightT is summed into as [O/8][C][9][8], so that a slab's rows
        // are contiguous (in [9, C, O] they lie C·O values apart).
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: 9 * c * o)
        reorderRows(sums, gradWeightT, channels: c, outChannels: o, toSlabs: true)
        defer { tile.deallocate(); offsets.deallocate(); values.deallocate(); sums.deallocate() }
        // Kernel offset (ky, kx) reads dY ky padded rows and kx pixels before the event's position.
        let rowBytes = paddedWidth * 8 * 4
        var start = [Int](repeating: 0, count: c + 1)
        events.coordinates.withUnsafeBufferPointer { coordinate in
            events.values.withUnsafeBufferPointer { value in
                for first in stride(from: 0, to: images, by: tileImages) {
                    let end = min(first + tileImages, images)
                    for j in first..<end {
                        // Eight channels' values of a pixel gathered into one store.
                        for block in 0..<(o / 8) {
                            let source = gradOut + block * 8 * ld + j * g.outPixels
                            let target = tile + block * slabSize + (j - first) * paddedPixels * 8
                            for oy in 0..<g.outHeight {
                                let row = UnsafeMutableRawPointer(target + ((oy + low) * paddedWidth + low) * 8)
                                let from = source + oy * g.outWidth
                                for ox in 0..<g.outWidth {
                                    let pixel = from + ox
                                    let values = SIMD8<Float>(pixel[0], pixel[ld], pixel[2 * ld], pixel[3 * ld],
                                                              pixel[4 * ld], pixel[5 * ld], pixel[6 * ld], pixel[7 * ld])
                                    row.storeBytes(of: values, toByteOffset: ox * 32, as: SIMD8<Float>.self)
                                }
                            }
                        }
                    }
                    // The tile's events by channel: images, then scan order.
                    var slot = 0
                    for ch in 0..<c {
                        start[ch] = slot
                        for j in first..<end {
                            let imageOffset = (j - first) * paddedPixels
                            for e in events.segment(image: j, channel: ch) {
                                let y = Int(coordinate[e] >> 16) + g.padding - 2 + low, x = Int(coordinate[e] & 0xFFFF) + g.padding - 2 + low
                                offsets[slot] = Int32((imageOffset + (y + 2) * paddedWidth + x + 2) * 8)
                                if !uniform { values[slot] = value[e] }
                                slot += 1
                            }
                        }
                    }
                    start[c] = slot
                    for block in 0..<(o / 8) {
                        let slab = UnsafeRawPointer(tile + block * slabSize)
                        for ch in 0..<c {
                            let members = start[ch]..<start[ch + 1]
                            guard !members.isEmpty else { continue }
                            let rows = UnsafeMutableRawPointer(sums + (block * c + ch) * 72)
                            @inline(__always) func row(_ k: Int) -> UnsafeMutableRawPointer { rows + k * 32 }
                            var a0 = row(0).loadUnaligned(as: SIMD8<Float>.self), a1 = row(1).loadUnaligned(as: SIMD8<Float>.self)
                            var a2 = row(2).loadUnaligned(as: SIMD8<Float>.self), a3 = row(3).loadUnaligned(as: SIMD8<Float>.self)
                            var a4 = row(4).loadUnaligned(as: SIMD8<Float>.self), a5 = row(5).loadUnaligned(as: SIMD8<Float>.self)
                            var a6 = row(6).loadUnaligned(as: SIMD8<Float>.self), a7 = row(7).loadUnaligned(as: SIMD8<Float>.self)
                            var a8 = row(8).loadUnaligned(as: SIMD8<Float>.self)
                            for e in members {
                                // Offset (ky, kx) reads ky rows and kx pixels before the event:
                                // three row pointers, the pixel steps as constant displacements.
                                let r0 = slab + Int(offsets[e]) * 4, r1 = r0 - rowBytes, r2 = r1 - rowBytes
                                let v = SIMD8<Float>(repeating: uniform ? events.uniformValue : values[e])
                                a0 = a0.addingProduct(r0.loadUnaligned(as: SIMD8<Float>.self), v)
                                a1 = a1.addingProduct((r0 - 32).loadUnaligned(as: SIMD8<Float>.self), v)
                                a2 = a2.addingProduct((r0 - 64).loadUnaligned(as: SIMD8<Float>.self), v)
                                a3 = a3.addingProduct(r1.loadUnaligned(as: SIMD8<Float>.self), v)
                                a4 = a4.addingProduct((r1 - 32).loadUnaligned(as: SIMD8<Float>.self), v)
                                a5 = a5.addingProduct((r1 - 64).loadUnaligned(as: SIMD8<Float>.self), v)
                                a6 = a6.addingProduct(r2.loadUnaligned(as: SIMD8<Float>.self), v)
                                a7 = a7.addingProduct((r2 - 32).loadUnaligned(as: SIMD8<Float>.self), v)
                                a8 = a8.addingProduct((r2 - 64).loadUnaligned(as: SIMD8<Float>.self), v)
                            }
                            row(0).storeBytes(of: a0, as: SIMD8<Float>.self); row(1).storeBytes(of: a1, as: SIMD8<Float>.self)
                            row(2).storeBytes(of: a2, as: SIMD8<Float>.self); row(3).storeBytes(of: a3, as: SIMD8<Float>.self)
                            row(4).storeBytes(of: a4, as: SIMD8<Float>.self); row(5).storeBytes(of: a5, as: SIMD8<Float>.self)
                            row(6).storeBytes(of: a6, as: SIMD8<Float>.self); row(7).storeBytes(of: a7, as: SIMD8<Float>.self)
                            row(8).storeBytes(of: a8, as: SIMD8<Float>.self)
                        }
                    }
                }
            }
        }
        reorderRows(gradWeightT, sums, channels: c, outChannels: o, toSlabs: false)
    }

    /// [O/8][C][9][8] ← [9, C, O] (`toSlabs`), or back.
    private static func reorderRows(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>,
                                    channels c: Int, outChannels o: Int, toSlabs: Bool) {
        for block in 0..<(o / 8) {
            for ch in 0..<c {
                for k in 0..<9 {
                    let slab = ((block * c + ch) * 9 + k) * 8, row = (k * c + ch) * o + block * 8
                    if toSlabs {
                        (target + slab).update(from: source + row, count: 8)
                    } else {
                        (target + row).update(from: source + slab, count: 8)
                    }
                }
            }
        }
    }

    @inline(__always)
    static func weightGradient<Block: RowBlock>(_: Block.Type, gradWeightT: UnsafeMutablePointer<Float>, events: InputEvents,
                                                gradOut: UnsafePointer<Float>, ld: Int, outChannels o: Int, geometry g: ConvGeometry) {
        let s = g.stride, classes = s * s, c = g.channels, images = events.imageCount
        let fullBlocks = o / Block.width * Block.width
        // An event at (iy, ix) reaches output row (iy + P − ky) / S from the
        // offsets ky ≡ iy + P (mod S): row a − ky / S with a = (iy + P) / S,
        // from a − (KH − 1) / S up to (H − 1 + P) / S; the border covers
        // what falls outside 0 ..< OH (likewise for columns).
        let low = max(0, (g.kernel - 1) / s - g.padding / s)
        let paddedHeight = low + max(g.outHeight, (g.height - 1 + g.padding) / s + 1)
        let paddedWidth = low + max(g.outWidth, (g.width - 1 + g.padding) / s + 1)
        let paddedImage = paddedHeight * paddedWidth * o
        let tileImages = max(1, tileValues / paddedImage)
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: min(tileImages, images) * paddedImage)
        tile.initialize(repeating: 0, count: min(tileImages, images) * paddedImage)
        var tileEvents = 0
        for first in stride(from: 0, to: images, by: tileImages) {
            let end = min(first + tileImages, images)
            tileEvents = max(tileEvents, Int(events.segmentStart[end * c] - events.segmentStart[first * c]))
        }
        let uniform = events.values.isEmpty
        let offsets = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, tileEvents))
        let values = UnsafeMutablePointer<Float>.allocate(capacity: uniform ? 1 : max(1, tileEvents))
        let eventKey = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, tileEvents))
        let eventOffset = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, tileEvents))
        defer { tile.deallocate(); offsets.deallocate(); values.deallocate(); eventKey.deallocate(); eventOffset.deallocate() }
        // The tile's events of channel c and class q at start[c·S² + q] ..< start[c·S² + q + 1].
        var start = [Int](repeating: 0, count: c * classes + 1), next = start
        events.coordinates.withUnsafeBufferPointer { coordinate in
            events.values.withUnsafeBufferPointer { value in
                for first in stride(from: 0, to: images, by: tileImages) {
                    let end = min(first + tileImages, images)
                    for j in first..<end {
                        let image = tile + (j - first) * paddedImage
                        for oy in 0..<g.outHeight {
                            transpose(image + ((oy + low) * paddedWidth + low) * o, gradOut + j * g.outPixels + oy * g.outWidth,
                                      rows: o, columns: g.outWidth, ld: ld)
                        }
                    }
                    // Each event's class and row offset (shifts for stride 1 and 2: a
                    // division by a run-time stride costs more than the event's additions).
                    let tileStart = Int(events.segmentStart[first * c])
                    for e in tileStart..<Int(events.segmentStart[end * c]) {
                        let y = Int(coordinate[e] >> 16) + g.padding, x = Int(coordinate[e] & 0xFFFF) + g.padding
                        let (qy, ry) = s == 1 ? (y, 0) : s == 2 ? (y >> 1, y & 1) : y.quotientAndRemainder(dividingBy: s)
                        let (qx, rx) = s == 1 ? (x, 0) : s == 2 ? (x >> 1, x & 1) : x.quotientAndRemainder(dividingBy: s)
                        eventKey[e - tileStart] = Int32(ry * s + rx)
                        eventOffset[e - tileStart] = Int32(((qy + low) * paddedWidth + qx + low) * o)
                    }
                    // A counting sort by (channel, class), stable: images, then scan order.
                    for q in start.indices { start[q] = 0 }
                    for j in first..<end {
                        for ch in 0..<c {
                            for e in events.segment(image: j, channel: ch) { start[ch * classes + Int(eventKey[e - tileStart]) + 1] += 1 }
                        }
                    }
                    for q in 0..<(c * classes) { start[q + 1] += start[q] }
                    for q in start.indices { next[q] = start[q] }
                    for j in first..<end {
                        let imageOffset = (j - first) * paddedImage
                        for ch in 0..<c {
                            for e in events.segment(image: j, channel: ch) {
                                let key = ch * classes + Int(eventKey[e - tileStart]), slot = next[key]
                                offsets[slot] = Int32(imageOffset + Int(eventOffset[e - tileStart]))
                                if !uniform { values[slot] = value[e] }
                                next[key] = slot + 1
                            }
                        }
                    }
                    for k in 0..<(g.kernel * g.kernel) {
                        let ky = k / g.kernel, kx = k % g.kernel
                        let key = ky % s * s + kx % s
                        let rows = tile - (ky / s * paddedWidth + kx / s) * o
                        for ch in 0..<c {
                            let members = start[ch * classes + key]..<start[ch * classes + key + 1]
                            guard !members.isEmpty else { continue }
                            let row = gradWeightT + (k * c + ch) * o
                            if uniform {
                                let v = events.uniformValue
                                for block in stride(from: 0, to: fullBlocks, by: Block.width) {
                                    var sum = Block(row + block)
                                    for e in members { sum = sum.adding(Block(rows + (Int(offsets[e]) &+ block)), times: v) }
                                    sum.store(row + block)
                                }
                            } else {
                                for block in stride(from: 0, to: fullBlocks, by: Block.width) {
                                    var sum = Block(row + block)
                                    for e in members { sum = sum.adding(Block(rows + (Int(offsets[e]) &+ block)), times: values[e]) }
                                    sum.store(row + block)
                                }
                            }
                            for lane in fullBlocks..<o {
                                for e in members {
                                    row[lane] = row[lane].addingProduct(uniform ? events.uniformValue : values[e], rows[Int(offsets[e]) &+ lane])
                                }
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
    /// Runs on the worker threads, each output channel's values on one.
    public static func offsetMajor(_ weightT: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>,
                                   outChannels o: Int, channels c: Int, offsets: Int) {
        // Blocks of 16 output channels: their source rows stay in cache while
        // each (k, c) row of weightT gets 16 consecutive values.
        let blocks = (o + 15) / 16
        Parallel.forEach(Parallel.workers) { part in
            for block in stride(from: part, to: blocks, by: Parallel.workers) {
                let channels = (block * 16)..<min(o, block * 16 + 16)
                for cc in 0..<c {
                    for k in 0..<offsets {
                        let target = weightT + (k * c + cc) * o
                        for oo in channels { target[oo] = weight[(oo * c + cc) * offsets + k] }
                    }
                }
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
    /// Runs on the worker threads, each output channel's values on one.
    public static func outputMajor(_ weight: UnsafeMutablePointer<Float>, _ weightT: UnsafePointer<Float>,
                                   outChannels o: Int, channels c: Int, offsets: Int) {
        let blocks = (o + 15) / 16
        Parallel.forEach(Parallel.workers) { part in
            for block in stride(from: part, to: blocks, by: Parallel.workers) {
                let channels = (block * 16)..<min(o, block * 16 + 16)
                for cc in 0..<c {
                    for k in 0..<offsets {
                        let source = weightT + (k * c + cc) * o
                        for oo in channels { weight[(oo * c + cc) * offsets + k] = source[oo] }
                    }
                }
            }
        }
    }

    /// dst[columns, rows] = src[rows, columns]ᵀ (src row stride `ld`), plus
    /// `shift[c]` on row c of dst when given.
    public static func transpose(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>,
                                 rows: Int, columns: Int, ld: Int, adding shift: [Float]? = nil) {
        // 8×8 tiles keep both sides in cache lines.
        for r0 in stride(from: 0, to: rows, by: 8) {
            let r1 = min(r0 + 8, rows)
            for c0 in stride(from: 0, to: columns, by: 8) {
                let c1 = min(c0 + 8, columns)
                if let shift {
                    for c in c0..<c1 {
                        let s = shift[c]
                        for r in r0..<r1 { dst[c * rows + r] = src[r * ld + c] + s }
                    }
                } else {
                    for r in r0..<r1 {
                        for c in c0..<c1 { dst[c * rows + r] = src[r * ld + c] }
                    }
                }
            }
        }
    }
}
