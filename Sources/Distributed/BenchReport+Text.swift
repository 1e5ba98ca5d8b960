import Core
import Foundation

/// The lines `clif-mpi bench` prints under its header: the rates and the
/// collectives, the time by kind of work, the ranks' busy time, the neuron
/// layers' activity.
extension BenchReport {
    /// Every section after the header line, in print order.
    public var lines: [String] {
        rateLines + shareLines + busyLines + neuronLines
    }

    /// The job's rates, its collectives and their traffic.
    var rateLines: [String] {
        let perStep = Double(steps)
        return [
            String(format: "samples/s: %.2f   step: %.3f s   dense-equivalent GFLOP/s: %.1f (%.2f GFLOP per sample)",
                   Double(samples) / seconds, seconds / perStep,
                   flopsPerSample * Double(samples) / seconds / 1e9, flopsPerSample / 1e9),
            String(format: "communication share: %.3f (%.3f s waiting in collectives on rank 0, %.3f s of it for gradient buckets after backward)",
                   communicationSeconds / seconds, communicationSeconds, exposedGradientSeconds),
            String(format: "reduction traffic: %.1f MB per step in %.0f collectives (rank 0)",
                   Double(traffic.bytesSent) / 1e6 / perStep, Double(traffic.collectives) / perStep),
        ]
    }

    /// Rank 0's time by kind of work, its GEMM rate against plain sgemm, the OpenBLAS kernels.
    var shareLines: [String] {
        var lines = ["time share by kind of work (rank 0):"]
        for (label, value) in workShares where value > 0 {
            lines.append(String(format: "  %-30@ %6.1f %%  %8.3f s", label as NSString, 100 * value / seconds, value))
        }
        if let rate = gemmRatePerThread {
            // Per worker thread: the GEMM phases' rate against the same threads' plain sgemm.
            let peak = sgemmPeak / Double(workers)
            lines.append(String(format: "GEMM phases (rank 0): %.1f GFLOP/s per worker thread = %.0f %% of the sgemm peak measured here (%.1f GFLOP/s per thread, %.1f for %d threads)",
                                rate, 100 * rate / peak, peak, sgemmPeak, workers))
        }
        lines.append("OpenBLAS kernels: \(Gemm.coreName) (OPENBLAS_CORETYPE \(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"))")
        if let advice = Gemm.coreAdvice(core: Gemm.coreName, cpuFlags: Gemm.cpuFlags()) { lines.append("note: " + advice) }
        return lines
    }

    /// One line per rank (the first and last four when there are more than
    /// 16) and the idle ranks.
    var busyLines: [String] {
        var lines = ["per rank over the timed steps (computing: wall time outside collectives; CPU: user + system time of all its threads, which includes MPI's polling while waiting):"]
        for (rank, r) in busy.enumerated() where busy.count <= 16 || rank < 4 || rank >= busy.count - 4 {
            lines.append(String(format: "  rank %3d  %6.1f samples/step  computing %7.3f s  waiting %7.3f s  CPU %7.3f s",
                                rank, Double(r.samples) / Double(steps), r.computingSeconds, r.waitingSeconds, r.cpuSeconds))
            if busy.count > 16 && rank == 3 { lines.append("  …") }
        }
        let idle = busy.indices.filter { busy[$0].samples == 0 }
        let computing = busy.map(\.computingSeconds).sorted()
        lines.append(String(format: "  busy ranks: %d of %d; computing per rank min %.3f s, median %.3f s, max %.3f s",
                            busy.count - idle.count, busy.count, computing.first ?? 0, computing[computing.count / 2], computing.last ?? 0)
                     + (idle.isEmpty ? "" : "; ranks without samples: \(idle)"))
        return lines
    }

    /// The neuron layers' firing rates and open surrogate windows.
    var neuronLines: [String] {
        // One header line: bench/compare.sh averages the second column of the rows below it.
        ["firing rates and open surrogate windows (last step, rank 0; columns: layer, firing rate, open elements, open pixels):"]
            + neurons.map { layer in
                // Padded here: Foundation's %-24@ does not pad on Linux.
                "  " + layer.name.padding(toLength: max(24, layer.name.count), withPad: " ", startingAt: 0)
                    + String(format: "  %6.3f", layer.firingRate)
                    + (layer.openElements.map { String(format: "   %13.3f", $0) } ?? "")
                    + (layer.openPixels.map { String(format: "   %11.3f", $0) } ?? "")
            }
    }
}
