// DVS128 Gesture recordings (AEDAT 3.1 packets), read as the loader reads them,
// then integrated into frames on the 128×128 sensor both ways (by number, by time).
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    guard let events = try? AEDAT.readVersion3(Data(input), file: "fuzz") else { return }
    for split in FrameSplit.allCases {
        _ = try? EventFrames.integrate(events, split: split, frames: 4, height: DVSGesture.side,
                                       width: DVSGesture.side, source: "fuzz")
    }
}
