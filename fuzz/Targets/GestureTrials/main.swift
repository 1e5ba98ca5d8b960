// DVS128 Gesture `trials_to_train.txt` / `trials_to_test.txt` (one recording per line).
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    _ = try? DVSGesture.trials(Data(input), file: "fuzz")
}
