// CIFAR10-DVS recordings (AEDAT 2.0), read as the loader reads them, then
// integrated into frames on the 128×128 sensor both ways. (The 48×48 resize that
// follows has no branch on the values, so it is left out: it would only slow the
// target down.)
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    guard let events = try? AEDAT.readVersion2(Data(input), file: "fuzz") else { return }
    for split in FrameSplit.allCases {
        _ = try? EventFrames.integrate(events, split: split, frames: 4, height: CIFAR10DVS.sensor,
                                       width: CIFAR10DVS.sensor, source: "fuzz")
    }
}
