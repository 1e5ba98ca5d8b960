import Foundation

extension KernelAgreement {
    /// What rank 0 says about the kernel probe: a note when the ranks run
    /// other OpenBLAS kernels or (`allowHeterogeneous`) compute other bits;
    /// the refusal, meant for standard error, when they compute other bits;
    /// nil when they agree.
    public func report(allowHeterogeneous: Bool) -> (text: String, isRefusal: Bool)? {
        switch self {
        case .identical:
            return nil
        case .sameBitsOtherKernels(let cores):
            return ("note: the ranks run different OpenBLAS kernels (\(cores.joined(separator: ", "))) that compute the same bits on the kernel probe; the probe covers common shapes only, so check a short run against one process", false)
        case .differentBits(let summary) where allowHeterogeneous:
            return ("note: \(summary) compute different bits (OpenBLAS kernel, CPU, libm or build differ); with --allow-heterogeneous this run goes on, and its results depend on which ranks run where: they are not those of one process", false)
        case .differentBits(let summary):
            return ("""
                Error: \(summary) compute different bits (OpenBLAS kernel, CPU, libm or build differ), \
                so this job would not give the same bits as one process. Run every rank on hosts of one kind with \
                the same clif-mpi binary and libraries (a DYNAMIC_ARCH OpenBLAS takes one kernel everywhere with \
                OPENBLAS_CORETYPE set to a core every host supports, e.g. Haswell), or pass --allow-heterogeneous \
                to run anyway.

                """, true)
        }
    }
}
