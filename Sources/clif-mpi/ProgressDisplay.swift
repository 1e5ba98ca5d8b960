import Core
import Distributed
import Foundation

/// A one-line progress bar on a terminal (redrawn at most 5 times a second);
/// elsewhere — a file, a pipe, or mpirun's forwarded output — a plain line
/// at every tenth of a phase.
final class ProgressDisplay {
    let terminal = isatty(STDOUT_FILENO) != 0 && !MPICommunicator.launchedByMPI
    private var lastDraw = Date.distantPast

    func show(_ p: BatchProgress) {
        let eta = p.batch > 0 ? p.elapsed / Double(p.batch) * Double(p.batches - p.batch) : 0
        let line = String(format: "%@ epoch %d (%d/%d) | Loss: %.4f | top1: %.2f | top5: %.2f | ETA: %.0fs",
                          p.phase, p.epoch, p.batch, p.batches, p.loss, p.top1, p.top5, eta)
        if terminal {
            guard p.batch == p.batches || Date().timeIntervalSince(lastDraw) > 0.2 else { return }
            lastDraw = Date()
            let width = 24, filled = p.batches > 0 ? width * p.batch / p.batches : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            print("\r\u{1B}[2K[\(bar)] \(line)", terminator: "")
            fflush(nil)
        } else {
            let tenth = max(1, p.batches / 10)
            if p.batch % tenth == 0 || p.batch == p.batches { print(line) }
        }
    }

    /// Ends the bar's line before other output.
    func finish() {
        if terminal { print("") }
    }
}
