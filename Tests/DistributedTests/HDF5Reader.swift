import CHDF5
import XCTest

/// Reads datasets of an HDF5 file back through libhdf5 itself, for tests of
/// the files clif-mpi writes: float32, int64 and variable-length strings.
final class HDF5Reader {
    private let file: hid_t

    init(path: String) throws {
        clif_h5_silence_errors()
        file = H5Fopen(path, clif_h5f_acc_rdonly(), 0)
        guard file >= 0 else { throw XCTSkip("\(path) is not an HDF5 file") }
    }

    deinit { H5Fclose(file) }

    /// Whether a group or dataset `path` exists (every parent must exist too).
    func exists(_ path: String) -> Bool {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            guard H5Lexists(file, prefix, 0) > 0 else { return false }
        }
        return true
    }

    /// Member names of the group `path`, sorted.
    func members(_ path: String) throws -> [String] {
        var names: [String] = []
        let group = H5Gopen2(file, path, 0)
        guard group >= 0 else { throw HDF5TestError("no group \(path)") }
        defer { H5Gclose(group) }
        var info = H5G_info_t()
        H5Gget_info(group, &info)
        for i in 0..<info.nlinks {
            let size = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, 0)
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, 0)
            names.append(String(cString: buffer))
        }
        return names.sorted()
    }

    func shape(_ path: String) throws -> [Int] {
        try withDataset(path) { id, space in
            var dims = [hsize_t](repeating: 0, count: Int(H5Sget_simple_extent_ndims(space)))
            H5Sget_simple_extent_dims(space, &dims, nil)
            return dims.map { Int($0) }
        }
    }

    func floats(_ path: String) throws -> [Float] {
        let count = try shape(path).reduce(1, *)
        return try withDataset(path) { id, _ in
            var values = [Float](repeating: .nan, count: count)
            guard H5Dread(id, clif_h5t_native_float(), 0, 0, 0, &values) >= 0 else { throw HDF5TestError("\(path) is not float") }
            return values
        }
    }

    func integers(_ path: String) throws -> [Int] {
        let count = try shape(path).reduce(1, *)
        return try withDataset(path) { id, _ in
            var values = [Int64](repeating: 0, count: count)
            guard H5Dread(id, clif_h5t_native_int64(), 0, 0, 0, &values) >= 0 else { throw HDF5TestError("\(path) is not integer") }
            return values.map { Int($0) }
        }
    }

    /// Variable-length strings, in row-major order.
    func strings(_ path: String) throws -> [String] {
        let count = try shape(path).reduce(1, *)
        return try withDataset(path) { id, space in
            let type = H5Tcopy(clif_h5t_c_s1())
            defer { H5Tclose(type) }
            H5Tset_size(type, clif_h5t_variable())
            H5Tset_cset(type, H5T_CSET_UTF8)  // HDF5 converts no string between ASCII and UTF-8
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Dread(id, type, 0, 0, 0, &pointers) >= 0 else { throw HDF5TestError("\(path) is not a string") }
            defer { H5Dvlen_reclaim(type, space, 0, &pointers) }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
    }

    private func withDataset<R>(_ path: String, _ body: (hid_t, hid_t) throws -> R) throws -> R {
        let id = H5Dopen2(file, path, 0)
        guard id >= 0 else { throw HDF5TestError("no dataset \(path)") }
        defer { H5Dclose(id) }
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        return try body(id, space)
    }
}

struct HDF5TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
