#!/usr/bin/env python3
"""Random data in the real on-disk formats, for the end-to-end benchmark (bench/end-to-end.sh).

Both clif-mpi and the PyTorch baseline read these same files:

  <out>/cifar-10-batches-py/   CIFAR-10's python version as torchvision's download extracts it:
                               data_batch_1 … data_batch_5, test_batch (pickles, protocol 4, of a
                               dict with "data" uint8 [N, 3072] and "labels"; the real files are
                               Python 2 pickles, which Python 3 cannot write), batches.meta.
                               Random pixels and labels (timing only; nothing to learn).
  <out>/DVSCIFAR10/extract/<class>/cifar10_<class>_<i>.aedat
                               CIFAR10-DVS recordings in AEDAT 2.0 ("#" header lines, then
                               big-endian u32 address, u32 timestamp pairs; DVS128 address
                               layout), random events, as spikingjelly's `extract/` folder holds them.

    bench/make_bench_data.py /tmp/clif-e2e-data                       # the defaults below
    bench/make_bench_data.py /tmp/clif-e2e-data --cifar-per-batch 2000 --dvs-per-class 20

--cifar-per-batch 10000 (the real size: 50,000 train, 10,000 test images) and --dvs-per-class 20
(real: 1000) with --dvs-events 20000 events per recording (real: about 200,000). Files written
earlier with the same sizes and seed are kept.
"""

import argparse
import os
import pickle
import sys

import numpy as np

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
AEDAT2_HEADER = (b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"
                 b"# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n"
                 b"# Timestamps tick is 1 us\r\n")


def write_cifar(folder, per_batch, rng):
    os.makedirs(folder, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        path = os.path.join(folder, name)
        batch = {
            "batch_label": f"{name} (random images for benchmarks)",
            "labels": [int(v) for v in rng.integers(0, 10, size=per_batch)],
            "data": rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8),
            "filenames": [f"random_{name}_{i}.png" for i in range(per_batch)],
        }
        with open(path + ".part", "wb") as fh:
            pickle.dump(batch, fh, protocol=4)
        os.replace(path + ".part", path)
    with open(os.path.join(folder, "batches.meta"), "wb") as fh:
        pickle.dump({"label_names": CLASSES, "num_cases_per_batch": per_batch, "num_vis": 3072}, fh, protocol=4)


def write_dvs(folder, per_class, events, rng):
    for name in CLASSES:
        class_folder = os.path.join(folder, name)
        os.makedirs(class_folder, exist_ok=True)
        for i in range(per_class):
            path = os.path.join(class_folder, f"cifar10_{name}_{i}.aedat")
            if os.path.exists(path) and os.path.getsize(path) == len(AEDAT2_HEADER) + 8 * events:
                continue
            t = np.sort(rng.integers(0, 1_300_000, size=events)).astype(np.uint32)
            x = rng.integers(0, 128, size=events).astype(np.uint32)
            y = rng.integers(0, 128, size=events).astype(np.uint32)
            p = rng.integers(0, 2, size=events).astype(np.uint32)
            address = (y << 8) | (x << 1) | p
            body = np.empty((events, 2), dtype=">u4")
            body[:, 0], body[:, 1] = address, t
            with open(path + ".part", "wb") as fh:
                fh.write(AEDAT2_HEADER + body.tobytes())
            os.replace(path + ".part", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="folder to write (created)")
    ap.add_argument("--cifar-per-batch", type=int, default=10000, help="images per CIFAR-10 batch file")
    ap.add_argument("--dvs-per-class", type=int, default=20, help="CIFAR10-DVS recordings per class (0: none)")
    ap.add_argument("--dvs-events", type=int, default=20000, help="events per CIFAR10-DVS recording")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if args.cifar_per_batch <= 0 or args.dvs_per_class < 0 or args.dvs_events <= 0:
        sys.exit("make_bench_data: --cifar-per-batch and --dvs-events must be positive, --dvs-per-class not negative")
    # What was written last: the same request keeps the files (and the frame caches made from them).
    stamp = os.path.join(args.out, "cifar-10-batches-py", "make_bench_data.txt")
    wanted = f"{args.cifar_per_batch} {args.seed}\n"
    if not (os.path.exists(stamp) and open(stamp).read() == wanted):
        write_cifar(os.path.join(args.out, "cifar-10-batches-py"), args.cifar_per_batch, np.random.default_rng(args.seed))
        with open(stamp, "w") as fh:
            fh.write(wanted)
    if args.dvs_per_class:
        write_dvs(os.path.join(args.out, "DVSCIFAR10", "extract"), args.dvs_per_class, args.dvs_events,
                  np.random.default_rng(args.seed + 1))
    print(f"make_bench_data: {args.out} holds CIFAR-10 ({5 * args.cifar_per_batch} train, {args.cifar_per_batch} test)"
          + (f" and CIFAR10-DVS ({args.dvs_per_class} recordings per class, {args.dvs_events} events each)"
             if args.dvs_per_class else ""))


if __name__ == "__main__":
    main()
