// Legend as in EventConv.swift: C input channels, H×W input, KH = KW = kernel,
// O output channels, OH×OW output (P pixels), S stride, P zero padding; the
// weight gradient is summed as `gradWeightT` [KH·KW, C, O].

extension EventConv {
    /// Set by tests: every geometry takes the general weight-gradient kernel.
    nonisolated(unsafe) static var generalWeightGradient = false

    /// gradWeightT[K, O] = the weight gradient of every image of `events`:
    /// `gradWeightT[k·C + c, :] = Σ v · dY[p, :]` over every event v (channel
    /// c) and kernel offset k that takes it to output pixel p; overwrites
    /// gradWeightT. `gradOut` is dY of the images as [O, ld], image j at
    /// columns j·P ..< (j + 1)·P.
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
    /// row adds the same events in the same order as the general kernel. The
    /// first tile's sums start from zero in registers, so gradWeightT is
    /// neither zeroed nor read first (for ResNet-18's layer4 that was 9.4 MB
    /// per chunk, twice, for each of its 3×3 stride-1 convolutions).
    static func weightGradient3x3(gradWeightT: UnsafeMutablePointer<Float>, events: InputEvents,
                                  gradOut: UnsafePointer<Float>, ld: Int, outChannels o: Int, geometry g: ConvGeometry) {
        precondition(g.kernel == 3 && g.stride == 1 && o % 8 == 0)
        let c = g.channels, images = events.imageCount, uniform = events.values.isEmpty
        guard images > 0 else {
            gradWeightT.update(repeating: 0, count: 9 * c * o)
            return
        }
        // Event (iy, ix) reaches output (iy + P − ky, ix + P − kx): rows from iy + P − 2.
        let low = max(0, 2 - g.padding)
        let paddedWidth = low + max(g.outWidth, g.width + g.padding)
        let paddedPixels = (low + max(g.outHeight, g.height + g.padding)) * paddedWidth
        let tileImages = max(1, slabValues / (paddedPixels * 8))
        let slabSize = min(tileImages, images) * paddedPixels * 8
        precondition(slabSize < Int(Int32.max), "EventConv: a \(g.height)×\(g.width) image is too large for 32-bit slab offsets")
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: o / 8 * slabSize)
        tile.initialize(repeating: 0, count: o / 8 * slabSize)
        var tileEvents = 0
        for first in stride(from: 0, to: images, by: tileImages) {
            let end = min(first + tileImages, images)
            tileEvents = max(tileEvents, Int(events.segmentStart[end * c] - events.segmentStart[first * c]))
        }
        let offsets = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, tileEvents))
        let values = UnsafeMutablePointer<Float>.allocate(capacity: uniform ? 1 : max(1, tileEvents))
        // gradWeightT is summed into as [C][O/8][9][8], so that a slab's rows
        // are contiguous (in [9, C, O] they lie C·O values apart).
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: 9 * c * o)
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
                    // The first tile writes every row of `sums`, from zero (+0, as a zeroed buffer held).
                    let fresh = first == 0
                    for block in 0..<(o / 8) {
                        let slab = UnsafeRawPointer(tile + block * slabSize)
                        for ch in 0..<c {
                            let members = start[ch]..<start[ch + 1]
                            guard !members.isEmpty || fresh else { continue }
                            let rows = UnsafeMutableRawPointer(sums + (ch * (o / 8) + block) * 72)
                            @inline(__always) func row(_ k: Int) -> UnsafeMutableRawPointer { rows + k * 32 }
                            @inline(__always) func sum(_ k: Int) -> SIMD8<Float> { fresh ? .zero : row(k).loadUnaligned(as: SIMD8<Float>.self) }
                            var a0 = sum(0), a1 = sum(1), a2 = sum(2), a3 = sum(3), a4 = sum(4)
                            var a5 = sum(5), a6 = sum(6), a7 = sum(7), a8 = sum(8)
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
        reorderRows(gradWeightT, sums, channels: c, outChannels: o)
    }

    /// [9, C, O] ← [C][O/8][9][8]. Channel by channel, the slab side runs in
    /// order and the nine rows of the other side each in order too (a
    /// scattered walk over whole layers cost as much as the products: every
    /// 32-byte piece on another page).
    private static func reorderRows(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>,
                                    channels c: Int, outChannels o: Int) {
        for ch in 0..<c {
            for block in 0..<(o / 8) {
                for k in 0..<9 {
                    let slab = ((ch * (o / 8) + block) * 9 + k) * 8, row = (k * c + ch) * o + block * 8
                    (target + row).update(from: source + slab, count: 8)
                }
            }
        }
    }

    @inline(__always)
    static func weightGradient<Block: RowBlock>(_: Block.Type, gradWeightT: UnsafeMutablePointer<Float>, events: InputEvents,
                                                gradOut: UnsafePointer<Float>, ld: Int, outChannels o: Int, geometry g: ConvGeometry) {
        let s = g.stride, classes = s * s, c = g.channels, images = events.imageCount
        let fullBlocks = o / Block.width * Block.width
        gradWeightT.update(repeating: 0, count: g.kernel * g.kernel * c * o)
        // An event at (iy, ix) reaches output row (iy + P − ky) / S from the
        // offsets ky ≡ iy + P (mod S): row a − ky / S with a = (iy + P) / S,
        // from a − (KH − 1) / S up to (H − 1 + P) / S; the border covers
        // what falls outside 0 ..< OH (likewise for columns).
        let low = max(0, (g.kernel - 1) / s - g.padding / s)
        let paddedHeight = low + max(g.outHeight, (g.height - 1 + g.padding) / s + 1)
        let paddedWidth = low + max(g.outWidth, (g.width - 1 + g.padding) / s + 1)
        let paddedImage = paddedHeight * paddedWidth * o
        let tileImages = max(1, tileValues / paddedImage)
        precondition(min(tileImages, images) * paddedImage < Int(Int32.max),
                     "EventConv: a \(g.height)×\(g.width)×\(o) output gradient is too large for 32-bit row offsets")
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
}
