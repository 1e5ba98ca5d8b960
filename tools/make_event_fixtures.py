#!/usr/bin/env python3
"""Writes the event-data fixtures of Tests/Fixtures/events/ for the Swift DVS readers.

What it writes (all small, deterministic from fixed seeds):
  dvsgesture/             a DVS128 Gesture folder in the real layout: user01_fluorescent.aedat and
                          user02_led.aedat (AEDAT 3.1: text header ending `#!END-HEADER\\r\\n`, packets
                          with 28-byte headers; polarity packets of 8-byte events, a special-event
                          packet to skip, one packet with eventTSOverflow 1), their *_labels.csv, and
                          trials_to_train.txt (user01) / trials_to_test.txt (user02).
  DVSCIFAR10/<class>/     cifar10_<class>_{0,1}.aedat for the ten classes (AEDAT 2.0: `#` header
                          lines, big-endian u32 address + u32 timestamp, DVS128 address layout).
  dvsgesture_frames.safetensors
                          per gesture sample k (train samples, then test samples, in trial-list
                          then CSV order): labels [K]; sample{k}_{number,time}_index / _count: the
                          nonzero cells (flat index into [T, 2, 128, 128]) and counts of
                          spikingjelly's integrate_events_by_fixed_frames_number with T = 4 on the
                          events `start <= t < end` of spikingjelly's load_aedat_v3; user01_{x,y,p}
                          and the event count of the whole recording user01.
  dvscifar10_frames.safetensors
                          per recording r (class-major, index order): labels [R];
                          rec{r}_index / _value: the nonzero cells of the frames by number (T = 3)
                          resized to 48×48 with torch F.interpolate(mode="bilinear",
                          align_corners=False, antialias=True), flat index into [3, 2, 48, 48];
                          rec{r}_raw_index / _raw_count: the 128×128 frames before resizing.
                          Events are decoded as the original CLIF repository's CIFAR10DVS.read_bin:
                          spikingjelly's cifar10_dvs.load_events with the DVS128 masks (x 0xFE >> 1,
                          y 0x7F00 >> 8, p bit 0), then x = 127 - x, p = 1 - p.

How to run (from the repository root, in the oracle venv of tools/requirements-oracle.txt):
    venv/bin/python tools/make_event_fixtures.py

It ran with: torch 2.13.0+cpu, spikingjelly 0.0.0.0.12, numpy 2.4.6, Pillow 13.0.0.
"""
import json
import os
import struct
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def stand_in_torchvision():
    """torchvision 0.28 of the oracle venv does not load against torch 2.13 ("operator
    torchvision::nms does not exist"); spikingjelly.datasets imports it only for DatasetFolder,
    download/extract helpers and transforms, none of which the functions used here touch."""
    try:
        import torchvision  # noqa: F401
        return
    except Exception:
        for name in [m for m in sys.modules if m.startswith("torchvision")]:
            del sys.modules[name]
    tv, ds, utils, tr = (types.ModuleType(n) for n in
                         ("torchvision", "torchvision.datasets", "torchvision.datasets.utils", "torchvision.transforms"))
    ds.DatasetFolder = type("DatasetFolder", (), {})
    ds.utils = utils
    utils.extract_archive = utils.download_url = utils.check_integrity = None
    tv.datasets, tv.transforms = ds, tr
    sys.modules.update({"torchvision": tv, "torchvision.datasets": ds, "torchvision.datasets.utils": utils,
                        "torchvision.transforms": tr})


stand_in_torchvision()
from spikingjelly import datasets as sjds
from spikingjelly.datasets import cifar10_dvs as sjcifar

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "events")
T_GESTURE, T_CIFAR = 4, 3
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_safetensors(path, tensors, metadata):
    """Byte-deterministic safetensors (same layout as tools/make_fixtures.py): sorted names, F32."""
    header = {"__metadata__": {k: metadata[k] for k in sorted(metadata)}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        raw = np.asarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.asarray(tensors[name]).shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as fh:
        fh.write(len(hjson).to_bytes(8, "little"))
        fh.write(hjson)
        for raw in blobs:
            fh.write(raw)


def sparse(frames):
    flat = np.asarray(frames, dtype=np.float64).reshape(-1)
    index = np.nonzero(flat)[0]
    assert index.size == 0 or index.max() < 2 ** 24  # exact in F32
    return index.astype(np.float64), flat[index]


def random_events(rng, n, t0, t1):
    """Events clustered in a 20×20 patch so pixels collect several counts."""
    cx, cy = rng.integers(10, 108, size=2)
    x = np.clip(cx + rng.integers(-10, 10, n), 0, 127)
    y = np.clip(cy + rng.integers(-10, 10, n), 0, 127)
    p = rng.integers(0, 2, n)
    t = np.sort(rng.integers(t0, t1, n))
    return t, x, y, p


def aedat31_packet(kind, events, overflow=0):
    """A packet: 28-byte header (type, source, size, TS offset, TS overflow, capacity, number, valid)."""
    n = len(events)
    head = struct.pack("<HHIIIIII", kind, 1, 8, 4, overflow, n, n, n)
    return head + b"".join(struct.pack("<II", data, ts) for data, ts in events)


def write_gesture_recording(rng, folder, name, gestures):
    end = max(g[2] for g in gestures) + 20000
    t, x, y, p = random_events(rng, 400, 0, end)
    polarity = [((int(xx) << 17) | (int(yy) << 2) | (int(pp) << 1) | 1, int(tt)) for tt, xx, yy, pp in zip(t, x, y, p)]
    packets = [aedat31_packet(1, polarity[:150]),
               aedat31_packet(0, [(0x12345, 77), (0x54321, 78)]),  # special events: skipped
               aedat31_packet(1, polarity[150:]),
               aedat31_packet(1, [((5 << 17) | (6 << 2) | 1, 3)], overflow=1)]  # t = 3 + 2^31: after every gesture
    header = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#Start-Time: 2017-01-01 00:00:00\r\n#!END-HEADER\r\n"
    with open(os.path.join(folder, name + ".aedat"), "wb") as fh:
        fh.write(header + b"".join(packets))
    with open(os.path.join(folder, name + "_labels.csv"), "w") as fh:
        fh.write("class,startTime_usec,endTime_usec\n")
        for g in gestures:
            fh.write(f"{g[0]},{g[1]},{g[2]}\n")


def gesture_fixtures():
    rng = np.random.default_rng(11)
    folder = os.path.join(ROOT, "dvsgesture")
    os.makedirs(folder, exist_ok=True)
    recordings = {
        "user01_fluorescent": [(3, 10000, 60000), (11, 60000, 120000), (3, 130000, 190000)],
        "user02_led": [(1, 5000, 50000), (7, 50000, 150000)],
    }
    for name, gestures in recordings.items():
        write_gesture_recording(rng, folder, name, gestures)
    with open(os.path.join(folder, "trials_to_train.txt"), "w") as fh:
        fh.write("user01_fluorescent.aedat\n")
    with open(os.path.join(folder, "trials_to_test.txt"), "w") as fh:
        fh.write("user02_led.aedat\n\n")
    out, labels, k = {}, [], 0
    for name in recordings:
        events = sjds.load_aedat_v3(os.path.join(folder, name + ".aedat"))
        if name == "user01_fluorescent":
            out["user01_x"], out["user01_y"], out["user01_p"] = events["x"], events["y"], events["p"]
            out["user01_count"] = np.array([events["t"].size])
            assert events["t"][-1] == 3 + 2 ** 31
        csv = np.loadtxt(os.path.join(folder, name + "_labels.csv"), dtype=np.uint32, delimiter=",", skiprows=1)
        for label, start, end in csv:
            mask = np.logical_and(events["t"] >= start, events["t"] < end)
            sample = {key: events[key][mask] for key in ("t", "x", "y", "p")}
            for split in ("number", "time"):
                frames = sjds.integrate_events_by_fixed_frames_number(sample, split, T_GESTURE, 128, 128)
                out[f"sample{k}_{split}_index"], out[f"sample{k}_{split}_count"] = sparse(frames)
            labels.append(int(label) - 1)
            k += 1
    out["labels"] = np.array(labels)
    write_safetensors(os.path.join(ROOT, "dvsgesture_frames.safetensors"), out,
                      {"T": str(T_GESTURE), "spikingjelly_version": "0.0.0.0.12", "torch_version": torch.__version__})


def clif_read_bin(path):
    """The original CLIF repository's CIFAR10DVS.read_bin, on spikingjelly's low-level reader.
    numpy 2 removed the binary mode of np.fromstring that reader calls; np.frombuffer is its
    documented replacement (same bytes, same dtype), swapped in for the call."""
    fromstring = np.fromstring
    np.fromstring = lambda data, dtype: np.frombuffer(data, dtype=dtype)
    try:
        with open(path, "rb") as fp:
            t, x, y, p = sjcifar.load_events(fp, x_mask=0xFE, x_shift=1, y_mask=0x7F00, y_shift=8,
                                             polarity_mask=1, polarity_shift=None)
    finally:
        np.fromstring = fromstring
    return {"t": t, "x": 127 - x, "y": y, "p": 1 - p.astype(int)}


def cifar_fixtures():
    rng = np.random.default_rng(12)
    out, labels, r = {}, [], 0
    header = (b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"
              b"# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n"
              b"# Timestamps tick is 1 us\r\n")
    for label, name in enumerate(CLASSES):
        folder = os.path.join(ROOT, "DVSCIFAR10", name)
        os.makedirs(folder, exist_ok=True)
        for i in range(2):
            n = int(rng.integers(150, 300))
            t, x, y, p = random_events(rng, n, 0, 1_000_000)
            body = b"".join(struct.pack(">II", (int(yy) << 8) | (int(xx) << 1) | int(pp), int(tt))
                            for tt, xx, yy, pp in zip(t, x, y, p))
            path = os.path.join(folder, f"cifar10_{name}_{i}.aedat")
            with open(path, "wb") as fh:
                fh.write(header + body)
            events = clif_read_bin(path)
            raw = sjds.integrate_events_by_fixed_frames_number(events, "number", T_CIFAR, 128, 128)
            resized = F.interpolate(torch.from_numpy(raw), size=(48, 48), mode="bilinear",
                                    align_corners=False, antialias=True).numpy()
            out[f"rec{r}_raw_index"], out[f"rec{r}_raw_count"] = sparse(raw)
            out[f"rec{r}_index"], out[f"rec{r}_value"] = sparse(resized)
            labels.append(label)
            if r == 0:
                frame_plane = resized[0, 0].astype(np.float32)
            r += 1
    out["labels"] = np.array(labels)
    small = rng.integers(0, 5, size=(20, 27)).astype(np.float32)
    for name, image in (("small", small), ("frame", frame_plane)):
        out[f"rotate_{name}_input"] = image
        for degrees in (-15, -7, 5, 14):
            rotated = Image.fromarray(image, mode="F").rotate(degrees)
            out[f"rotate_{name}_{'m' if degrees < 0 else ''}{abs(degrees)}"] = np.asarray(rotated, dtype=np.float32)
    write_safetensors(os.path.join(ROOT, "dvscifar10_frames.safetensors"), out,
                      {"T": str(T_CIFAR), "spikingjelly_version": "0.0.0.0.12", "torch_version": torch.__version__})


if __name__ == "__main__":
    torch.set_num_threads(1)
    gesture_fixtures()
    cifar_fixtures()
    print("wrote", ROOT)
