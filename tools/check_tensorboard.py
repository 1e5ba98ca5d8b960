#!/usr/bin/env python3
"""Reads a clif-mpi run's TensorBoard event file with TensorBoard's own reader.

    check_tensorboard.py RUN_FOLDER EPOCHS LAYER [LAYER ...]

Loads the folder with tensorboard.backend.event_processing.event_accumulator
.EventAccumulator and checks, for every epoch 0..EPOCHS-1: the original's four
scalars, firing_rate/<layer> in [0, 1] for every LAYER given, clif_m_mean/<layer>
for each of them (a CLIF run), and the histograms membrane_minus_threshold/<first>
and /<last> LAYER with buckets that add up to num and min <= sum/num <= max.
Prints one line per check and "tensorboard check passed" at the end; exits 1 on
the first failure. Ran with tensorboard 2.21.0 (tools/requirements-tensorboard.txt).
"""
import math
import sys

from tensorboard.backend.event_processing import event_accumulator


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    if len(sys.argv) < 4:
        fail("usage: check_tensorboard.py RUN_FOLDER EPOCHS LAYER [LAYER ...]")
    folder, epochs, layers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    accumulator = event_accumulator.EventAccumulator(
        folder, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    scalars, histograms = set(tags["scalars"]), set(tags["histograms"])
    print("scalar tags: " + ", ".join(sorted(scalars)))
    print("histogram tags: " + ", ".join(sorted(histograms)))

    expected = ["train_loss", "train_acc", "test_loss", "test_acc"]
    expected += ["firing_rate/" + layer for layer in layers] + ["clif_m_mean/" + layer for layer in layers]
    for tag in expected:
        if tag not in scalars:
            fail("scalar %s is missing" % tag)
        steps = [event.step for event in accumulator.Scalars(tag)]
        if steps != list(range(epochs)):
            fail("scalar %s has steps %s, expected 0..%d" % (tag, steps, epochs - 1))
        for event in accumulator.Scalars(tag):
            if not math.isfinite(event.value):
                fail("scalar %s at step %d is %r" % (tag, event.step, event.value))
            if tag.startswith("firing_rate/") and not 0 <= event.value <= 1:
                fail("%s at step %d is %r, outside [0, 1]" % (tag, event.step, event.value))
        print("%s: %s" % (tag, ", ".join("%.6g" % e.value for e in accumulator.Scalars(tag))))

    for layer in sorted({layers[0], layers[-1]}):
        tag = "membrane_minus_threshold/" + layer
        if tag not in histograms:
            fail("histogram %s is missing" % tag)
        events = accumulator.Histograms(tag)
        if [e.step for e in events] != list(range(epochs)):
            fail("histogram %s has steps %s" % (tag, [e.step for e in events]))
        for event in events:
            h = event.histogram_value
            if h.num <= 0 or sum(h.bucket) != h.num:
                fail("%s at step %d: buckets add up to %r, num is %r" % (tag, event.step, sum(h.bucket), h.num))
            if len(h.bucket) != len(h.bucket_limit) or list(h.bucket_limit) != sorted(h.bucket_limit):
                fail("%s at step %d: %d buckets, %d limits, limits sorted: %s"
                     % (tag, event.step, len(h.bucket), len(h.bucket_limit), list(h.bucket_limit) == sorted(h.bucket_limit)))
            mean = h.sum / h.num
            if not h.min <= mean <= h.max:
                fail("%s at step %d: mean %r outside [min %r, max %r]" % (tag, event.step, mean, h.min, h.max))
            print("%s step %d: num %d, min %.4g, max %.4g, mean %.4g, %d buckets"
                  % (tag, event.step, h.num, h.min, h.max, mean, len(h.bucket)))
    print("tensorboard check passed")


if __name__ == "__main__":
    main()
