import CHDF5
import Foundation

/// A failure to write an HDF5 file, naming the file and the object.
public struct HDF5Error: Error, CustomStringConvertible {
    public let description: String
}

/// Writes an HDF5 file of nested groups holding float32 and int64 arrays and
/// variable-length UTF-8 strings — the dataset kinds h5py reads back as numpy
/// arrays and `bytes`, as the `nir` package expects.
///
/// Paths are slash-separated from the root (`node/nodes/conv/weight`); a
/// dataset's parent groups must exist (`group(_:)`). Arrays are written
/// uncompressed and contiguous.
public final class HDF5Writer {
    public let path: String
    private var file: hid_t

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws {
        clif_h5_silence_errors()
        self.path = path
        file = H5Fcreate(path, clif_h5f_acc_trunc(), hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard file >= 0 else { throw HDF5Error(description: "\(path): cannot create the HDF5 file") }
    }

    deinit { if file >= 0 { H5Fclose(file) } }

    /// Flushes and closes the file; later writes fail.
    public func close() throws {
        guard file >= 0 else { return }
        let status = H5Fclose(file)
        file = -1
        guard status >= 0 else { throw HDF5Error(description: "\(path): cannot close the HDF5 file") }
    }

    public func group(_ name: String) throws {
        let id = H5Gcreate2(file, name, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard id >= 0 else { throw failure("cannot create group", name) }
        H5Gclose(id)
    }

    /// A float32 dataset of `shape` (`[]`: a scalar).
    public func floats(_ name: String, _ values: [Float], shape: [Int]) throws {
        precondition(values.count == shape.reduce(1, *), "HDF5Writer.floats \(name): \(values.count) values for shape \(shape)")
        try dataset(name, type: clif_h5t_native_float(), shape: shape) { space, type, id in
            values.withUnsafeBufferPointer { H5Dwrite(id, type, space, space, hid_t(H5P_DEFAULT), $0.baseAddress) }
        }
    }

    /// An int64 dataset of `shape` (`[]`: a scalar).
    public func integers(_ name: String, _ values: [Int], shape: [Int]) throws {
        precondition(values.count == shape.reduce(1, *), "HDF5Writer.integers \(name): \(values.count) values for shape \(shape)")
        let wide = values.map { Int64($0) }
        try dataset(name, type: clif_h5t_native_int64(), shape: shape) { space, type, id in
            wide.withUnsafeBufferPointer { H5Dwrite(id, type, space, space, hid_t(H5P_DEFAULT), $0.baseAddress) }
        }
    }

    /// A variable-length UTF-8 string dataset of `shape` (`[]`: one string).
    public func strings(_ name: String, _ values: [String], shape: [Int]) throws {
        precondition(values.count == shape.reduce(1, *), "HDF5Writer.strings \(name): \(values.count) values for shape \(shape)")
        let type = H5Tcopy(clif_h5t_c_s1())
        defer { H5Tclose(type) }
        H5Tset_size(type, clif_h5t_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        let copies = values.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        try dataset(name, type: type, shape: shape) { space, type, id in
            pointers.withUnsafeMutableBufferPointer { H5Dwrite(id, type, space, space, hid_t(H5P_DEFAULT), $0.baseAddress) }
        }
    }

    private func dataset(_ name: String, type: hid_t, shape: [Int],
                         _ write: (_ space: hid_t, _ type: hid_t, _ id: hid_t) -> herr_t) throws {
        let dims = shape.map { hsize_t($0) }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
        guard space >= 0 else { throw failure("cannot describe shape \(shape) of", name) }
        defer { H5Sclose(space) }
        let id = H5Dcreate2(file, name, type, space, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard id >= 0 else { throw failure("cannot create dataset", name) }
        defer { H5Dclose(id) }
        // H5S_ALL (0, a cast macro Swift does not import): the whole dataset, in memory as in the file.
        guard write(0, type, id) >= 0 else { throw failure("cannot write dataset", name) }
    }

    private func failure(_ what: String, _ name: String) -> HDF5Error {
        HDF5Error(description: "\(path): \(what) \(name) (disk full, or the name exists already?)")
    }
}
