// CIFAR10-DVS recordings (AEDAT 2.0), read as the loader reads them, integrated
// into frames on the 128×128 sensor both ways and resized to 48×48.
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    guard let events = try? AEDAT.readVersion2(Data(input), file: "fuzz") else { return }
    let sensor = CIFAR10DVS.sensor, side = CIFAR10DVS.side
    for split in FrameSplit.allCases {
        guard let full = try? EventFrames.integrate(events, split: split, frames: 4, height: sensor, width: sensor,
                                                    source: "fuzz") else { continue }
        _ = FrameResize.resize(full, planes: 4 * 2, height: sensor, width: sensor, toHeight: side, width: side)
    }
}
