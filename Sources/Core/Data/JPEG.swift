import CTurboJPEG
import Foundation

/// JPEG decoding through libturbojpeg, with PIL's `Image.open(f).convert('RGB')`
/// semantics: greyscale files become three equal channels, and a damaged
/// file is an error (PIL refuses truncated files too).
public enum JPEG {
    /// A decoded image: `[3, H, W]` bytes, channels red, green, blue.
    public struct Image: Sendable, Equatable {
        public let width: Int, height: Int
        public var planes: [UInt8]
    }

    /// Decodes `data` (the bytes of `file`, which only names it in errors) to RGB.
    /// With `size`, an image of any other width × height is refused from its
    /// header, before the output is allocated or any pixel is decoded (a
    /// dataset loader knows the size it accepts; a hostile header may claim
    /// 65000×65000); `sizeNote` ends that message (why the size is required).
    ///
    /// libjpeg-turbo's defaults match PIL's: accurate integer IDCT and fancy
    /// (smooth) chroma upsampling. Warnings (a truncated file, corrupt data)
    /// are errors, since the image they leave is partly invented.
    public static func decodeRGB(_ data: Data, file: String, size: (width: Int, height: Int)? = nil,
                                 sizeNote: String = "") throws -> Image {
        guard let handle = tjInitDecompress() else { throw DataError("\(file): cannot start the JPEG decoder (libturbojpeg)") }
        defer { tjDestroy(handle) }
        func failure(_ what: String) -> DataError {
            let reason = String(cString: tjGetErrorStr2(handle))
            return DataError("\(file): \(what) (libturbojpeg: \(reason)); the file is damaged or not a JPEG — replace it with a good copy from the dataset archive")
        }
        guard data.count > 2, data[data.startIndex] == 0xFF, data[data.startIndex + 1] == 0xD8 else {
            throw DataError("\(file): not a JPEG file (\(data.count) bytes, no FF D8 start marker); replace it with a good copy from the dataset archive")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = data.withUnsafeBytes { raw in
            tjDecompressHeader3(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count),
                                &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else { throw failure("cannot read the JPEG header") }
        guard width > 0, height > 0, Int(width) * Int(height) <= 1 << 26 else {
            throw DataError("\(file): JPEG size \(width)×\(height) is not plausible for an image of this dataset")
        }
        let w = Int(width), h = Int(height)
        if let size, size.width != w || size.height != h {
            throw DataError("\(file) is \(w)×\(h), expected \(size.width)×\(size.height) (read from its JPEG header)\(sizeNote)")
        }
        var interleaved = [UInt8](repeating: 0, count: w * h * 3)
        let status = data.withUnsafeBytes { raw in
            interleaved.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), out.baseAddress,
                              width, 0, height, Int32(TJPF_RGB.rawValue), TJFLAG_STOPONWARNING)
            }
        }
        guard status == 0 else { throw failure("cannot decode the JPEG data") }
        var planes = [UInt8](repeating: 0, count: w * h * 3)
        for i in 0..<(w * h) {
            planes[i] = interleaved[3 * i]
            planes[w * h + i] = interleaved[3 * i + 1]
            planes[2 * w * h + i] = interleaved[3 * i + 2]
        }
        return Image(width: w, height: h, planes: planes)
    }
}
