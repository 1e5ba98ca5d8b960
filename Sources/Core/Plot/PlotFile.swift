import Foundation

/// The SVG file of `--plot` (infer, energy): its folder is checked before the
/// work starts, and the chart is written whole or not at all at the end.
public struct PlotFile {
    public let path: String

    public init(path: String) { self.path = path }

    /// The one-line problem with `path`'s name, for `validate()`.
    public static func problem(_ path: String) -> String? {
        path.lowercased().hasSuffix(".svg") ? nil : "--plot \(path): expected a file name ending in .svg"
    }

    /// Fails at once when the folder is missing or cannot be written.
    public func checkFolder() throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LoggingError("--plot \(path): the folder \(folder) does not exist; create it or name another file")
        }
        guard access(folder, W_OK) == 0 else {
            throw LoggingError("--plot \(path): cannot write in \(folder): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `chart` through a temporary file renamed over `path`.
    public func write(_ chart: BarChart) throws {
        do {
            try AtomicFile.write(Data(chart.svg.utf8), to: URL(fileURLWithPath: path), what: "plot")
        } catch let error as AtomicFile.Failure {
            throw LoggingError("--plot: \(error.description)")
        }
    }
}
