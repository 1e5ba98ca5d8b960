// Tiny-ImageNet's `wnids.txt` and `val/val_annotations.txt`: the input as
// each, the annotations against the classes of a fixed wnids list.
@testable import Core
import Foundation
import FuzzSupport

let index = ["n01443537": 0, "n01629819": 1, "n09999999": 2]

runFuzzer { input in
    let data = Data(input)
    _ = try? TinyImageNet.wnids(data, file: "fuzz")
    _ = try? TinyImageNet.validationLabels(data, file: "fuzz", index: index)
}
