// The on-disk frame cache: header, shape against the expected key, size, CRC-32,
// labels. The key matches the seeds (make_corpus.py), so mutations get past the
// shape and fingerprint checks.
@testable import Core
import FuzzSupport

let key = FrameCache.Key(frames: 2, channels: 2, height: 4, width: 4, classes: 11, split: .number,
                         fingerprint: 0x0123_4567_89AB_CDEF)

runFuzzer { input in
    _ = FrameCache.check(input, key: key, name: "fuzz")
}
