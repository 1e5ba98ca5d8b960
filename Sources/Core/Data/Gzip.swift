import CZlib
import Foundation

public enum Gzip {
    /// Whether `data` starts with the gzip magic bytes.
    public static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// Inflates a gzip (or zlib) stream; `name` labels errors. Refuses output
    /// beyond `limit` bytes, so a hostile file cannot exhaust memory.
    public static func decompress(_ data: Data, name: String, limit: Int = 4 << 30) throws -> Data {
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers automatically.
        guard clif_inflate_init2(&stream, 15 + 32) == Z_OK else { throw DataError("\(name): cannot start zlib") }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                try buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END else {
                        let reason = status == Z_BUF_ERROR ? "it ends early (truncated?)" : "corrupt gzip data (zlib status \(status))"
                        throw DataError("\(name): \(reason)")
                    }
                    output.append(out.baseAddress!, count: chunk - Int(stream.avail_out))
                }
                guard output.count <= limit else { throw DataError("\(name): inflates to more than \(limit) bytes") }
                if status != Z_STREAM_END && stream.avail_in == 0 && stream.avail_out != 0 {
                    throw DataError("\(name): it ends early (truncated gzip stream)")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
