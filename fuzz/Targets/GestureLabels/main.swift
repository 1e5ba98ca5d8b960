// DVS128 Gesture `*_labels.csv` (class,startTime_usec,endTime_usec rows).
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    _ = try? DVSGesture.gestures(Data(input), file: "fuzz")
}
