import XCTest
@testable import Core

final class GemmTests: XCTestCase {
    /// OpenBLAS against the plain loop on awkward sizes and every transpose.
    func testSgemmMatchesReference() {
        for (m, n, k) in [(1, 1, 1), (7, 8, 9), (9, 7, 8), (8, 9, 1023), (1023, 1, 7), (3, 1023, 8)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let a = randomTensor([m * k], seed: 1).data, b = randomTensor([k * n], seed: 2).data
                    var c = randomTensor([m * n], seed: 3).data, r = c
                    let lda = transA ? m : k, ldb = transB ? k : n
                    Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                               b: b, ldb: ldb, beta: 0.25, c: &c, ldc: n)
                    Gemm.reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                                   b: b, ldb: ldb, beta: 0.25, c: &r, ldc: n)
                    assertClose(Tensor(shape: [m * n], data: c), Tensor(shape: [m * n], data: r), tolerance: 1e-5,
                                "gemm: \(m)x\(n)x\(k) tA=\(transA) tB=\(transB)")
                }
            }
        }
    }

    /// The hint names the kernels the CPU's flags allow, only when OpenBLAS
    /// fell back to generic ones.
    func testCoreAdviceNamesTheKernelsTheCPUAllows() {
        let cpuinfo = """
            processor\t: 0
            flags\t\t: fpu sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl
            processor\t: 1
            """
        let avx512 = Gemm.cpuFlags(cpuinfo: cpuinfo)
        XCTAssertTrue(avx512.isSuperset(of: ["avx2", "fma", "avx512vl"]))
        XCTAssertEqual(Gemm.cpuFlags(cpuinfo: "processor : 0\n"), [])
        XCTAssertEqual(Gemm.cpuFlags(cpuinfo: nil), [])
        XCTAssertTrue(Gemm.coreAdvice(core: "Prescott", cpuFlags: avx512)?.contains("OPENBLAS_CORETYPE=SkylakeX") == true)
        XCTAssertTrue(Gemm.coreAdvice(core: "Prescott", cpuFlags: ["sse2", "avx2", "fma"])?.contains("OPENBLAS_CORETYPE=Haswell") == true)
        XCTAssertNil(Gemm.coreAdvice(core: "Prescott", cpuFlags: ["sse2", "sse3"]), "no wider kernels to suggest")
        XCTAssertNil(Gemm.coreAdvice(core: "Cooperlake", cpuFlags: avx512), "OpenBLAS already runs AVX-512 kernels")
        XCTAssertNil(Gemm.coreAdvice(core: "Haswell", cpuFlags: avx512))
    }
}
