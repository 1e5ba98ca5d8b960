// The run's arguments a checkpoint records, read back by infer, energy,
// convert and -resume: the input as the JSON form and as the older
// `Namespace(…)` text; what reads is written again and must read the same.
@testable import Core
import Foundation
import FuzzSupport

runFuzzer { input in
    let text = String(decoding: input, as: UTF8.self)
    let legacy = RunArguments(namespace: text)
    _ = legacy.namespaceText
    _ = legacy["b"]
    if let read = try? RunArguments(json: text, file: "fuzz") {
        guard let again = try? RunArguments(json: read.json, file: "fuzz") else { fatalError("written JSON does not read: \(read.json)") }
        for entry in read.entries where again[entry.key] != read[entry.key] {
            fatalError("\(entry.key) reads \(String(describing: again[entry.key])) after a round trip, was \(String(describing: read[entry.key]))")
        }
        _ = read.namespaceText
    }
}
