import CBLAS
import Foundation

/// Row-major single-precision matrix products: `C = alpha·op(A)·op(B) + beta·C`
/// with `op(A)` `[m, k]`, `op(B)` `[k, n]`, `C` `[m, n]`.
public enum Gemm {
    /// OpenBLAS `cblas_sgemm`. Callers keep every call's shape independent of
    /// the rank count: OpenBLAS results for one output element can depend on
    /// the other columns of the same call.
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            scale(c, rows: m, columns: n, ld: ldc, by: beta)
            return
        }
        Profiler.count(gemmFlops: 2 * m * n * k)
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The plain triple loop that `sgemm` is tested against.
    public static func reference(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                                 b: UnsafePointer<Float>, ldb: Int,
                                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Double = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * Float(sum) + old
            }
        }
    }

    static func scale(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ld: Int, by beta: Float) {
        for i in 0..<rows {
            for j in 0..<columns { c[i * ld + j] = beta == 0 ? 0 : beta * c[i * ld + j] }
        }
    }

    /// GFLOP/s of `workers` threads each running a 1024³ product at once
    /// (best of three): the sgemm peak the GEMM phases are compared with.
    public static func measuredPeak(workers: Int) -> Double {
        let size = 1024
        let a = [Float](repeating: 0.5, count: size * size)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEach(workers) { _ in
                let c = ScratchBuffer(count: size * size)
                a.withUnsafeBufferPointer { a in
                    sgemm(m: size, n: size, k: size, a: a.baseAddress!, lda: size, b: a.baseAddress!, ldb: size,
                          c: c.pointer, ldc: size)
                }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return 2 * Double(size * size * size * workers) / best / 1e9
    }

    /// OpenBLAS's name for the CPU core whose kernels it chose (`openblas_get_corename`, e.g.
    /// "Haswell"): a DYNAMIC_ARCH build picks them for the CPU it finds at load time.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's generic x86-64 kernels (SSE2/SSE3), which a DYNAMIC_ARCH
    /// build falls back to when it does not recognise the CPU.
    static let genericCores: Set<String> = ["prescott", "core2", "katmai", "coppermine", "northwood", "banias", "atom"]

    /// A hint when OpenBLAS runs generic kernels although the CPU has wider
    /// vector units (`cpuFlags` as in /proc/cpuinfo): the `OPENBLAS_CORETYPE`
    /// that selects them, else nil. Measured on a Xeon with AVX-512 whose
    /// OpenBLAS 0.3.21 chose Prescott: 19–25 GFLOP/s per thread, against
    /// 100–125 with SkylakeX or Cooperlake kernels.
    public static func coreAdvice(core: String, cpuFlags: Set<String>) -> String? {
        guard genericCores.contains(core.lowercased()) else { return nil }
        let better: String
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) {
            better = "SkylakeX"
        } else if cpuFlags.isSuperset(of: ["avx2", "fma"]) {
            better = "Haswell"
        } else {
            return nil
        }
        return "OpenBLAS runs its generic \(core) kernels on this CPU, which has the vector units of its \(better) kernels: " +
            "OPENBLAS_CORETYPE=\(better) in the environment makes the GEMM phases several times faster " +
            "(every rank of a job must run the same kernels for the same bits)"
    }

    /// The CPU feature flags of the first processor in /proc/cpuinfo (empty where there is none).
    public static func cpuFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Threads OpenBLAS may use for one call.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }
}
