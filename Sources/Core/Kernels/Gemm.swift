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

    /// Threads OpenBLAS may use for one call.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }
}
