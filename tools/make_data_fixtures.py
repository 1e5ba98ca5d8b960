#!/usr/bin/env python3
"""Writes the small dataset fixtures of Tests/Fixtures/data/ for the Swift data readers.

What it writes:
  cifar-10-batches-py/    data_batch_1..5, test_batch: CIFAR-10 python batches (3, 2, 2, 2, 2
                          and 3 images) byte-for-byte in the form of the originals, which
                          Python 2.7's cPickle wrote with protocol 2: a dict with py2-str
                          (SHORT_BINSTRING) keys batch_label, labels, data, filenames in that
                          order; data a numpy uint8 [n, 3072] array pickled through
                          `numpy.core.multiarray _reconstruct` + `numpy ndarray` + `numpy dtype`
                          with BUILD states, the raw bytes a BINSTRING; memo indices from 1.
  cifar-100-python/       train (4 images), test (2 images): keys filenames, batch_label,
                          fine_labels, coarse_labels, data, same encoding.
  pickle/cifar10_py3_protocol{2,4,5}.pkl
                          the seed-1 batch written by this Python 3 + numpy 2 with
                          pickle.dump(d, f, protocol=p): protocol 2 spells bytes as
                          `_codecs encode(str, 'latin1')`, numpy 2 names
                          `numpy._core.multiarray _reconstruct`; protocol 5 uses
                          `numpy._core.numeric _frombuffer` with an in-band BYTEARRAY8.
  pickle/cifar10_int64_labels_protocol4.pkl
                          a 2-image batch whose labels are a numpy int64 array (as re-saved copies hold).
  pickle/torch_state_dict_data.pkl
                          archive/data.pkl of torch.save(state_dict) of Linear(2, 3) + BatchNorm1d(3)
                          (written only when torch imports; the .pth reader's later test input).
  bad/                    CIFAR-10 python batches (py2 form) that must be refused: no_data_key,
                          wrong_shape (data [2, 1024]), label_out_of_range (label 10).
  pickle/values_protocol{2,4}.pkl
                          scalars, strings, nested containers, shared references and numpy
                          integer arrays of several dtypes (the values are listed in VALUES).

Pixels and labels follow formulas that the Swift tests repeat (see pixel() and the label
lambdas below), so the tests check exact round trips without a second copy of the data.

How to run (from the repository root; needs only python3 and numpy):
    python3 tools/make_data_fixtures.py

It ran with: Python 3.11.7, numpy 2.4.6 (torch 2.13.0+cpu for the torch fixture, from the oracle
venv of tools/requirements-oracle.txt). Every py2-style file is checked after writing by
loading it with pickle.load(f, encoding="bytes") and comparing with the intended values.
"""
import pathlib
import pickle
import pickletools
import struct

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "data"


def pixel(seed, n, j):
    """Byte j (of 3072) of image n in the file with this seed."""
    return (seed * 101 + n * 37 + j * 7 + (j >> 5) * 3) & 0xFF


def images(seed, count):
    return np.array([[pixel(seed, n, j) for j in range(3072)] for n in range(count)], dtype=np.uint8)


cifar10_label = lambda seed, n: (seed * 3 + n * 7) % 10
cifar100_fine = lambda seed, n: (n * 37 + 99 + seed) % 100
cifar100_coarse = lambda seed, n: cifar100_fine(seed, n) // 5


class Py2Global:
    def __init__(self, module, name):
        self.module, self.name = module, name


class Py2Reduce:
    """callable(*args) then BUILD(state), as cPickle.save_reduce wrote it."""
    def __init__(self, callable, args, state):
        self.callable, self.args, self.state = callable, args, state


def py2_ndarray(array):
    # numpy 1.x on Python 2: ndarray.__reduce__ and dtype.__reduce__ (args ('u1', 0, 1)).
    assert array.dtype == np.uint8 and array.flags["C_CONTIGUOUS"]
    dtype = Py2Reduce(Py2Global("numpy", "dtype"), ("u1", 0, 1), (3, "|", None, None, None, -1, -1, 0))
    return Py2Reduce(Py2Global("numpy.core.multiarray", "_reconstruct"),
                     (Py2Global("numpy", "ndarray"), (0,), "b"),
                     (1, tuple(array.shape), dtype, False, array.tobytes()))


class Py2CPickler:
    """Protocol 2 the way Python 2.7's cPickle.dump(obj, f, 2) emitted it (py2 str = bytes here)."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")
        self.memo = 0

    def put(self):
        self.memo += 1  # cPickle: "Make sure memo keys are positive!"
        self.out += b"q" + bytes([self.memo]) if self.memo < 256 else b"r" + struct.pack("<I", self.memo)

    def save(self, obj):
        out = self.out
        if obj is None:
            out += b"N"
        elif obj is True or obj is False:
            out += b"\x88" if obj else b"\x89"
        elif isinstance(obj, int):
            if 0 <= obj < 256:
                out += b"K" + bytes([obj])
            elif 0 <= obj < 65536:
                out += b"M" + struct.pack("<H", obj)
            else:
                out += b"J" + struct.pack("<i", obj)
        elif isinstance(obj, (bytes, str)):  # both are py2 str
            raw = obj.encode("latin1") if isinstance(obj, str) else obj
            out += (b"U" + bytes([len(raw)]) if len(raw) < 256 else b"T" + struct.pack("<i", len(raw))) + raw
            if len(raw) >= 2:  # cPickle skips the memo for 0- and 1-char strings
                self.put()
        elif isinstance(obj, tuple):
            if 1 <= len(obj) <= 3:
                for item in obj:
                    self.save(item)
                out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}[len(obj)]
            else:
                out += b"("
                for item in obj:
                    self.save(item)
                out += b"t"
        elif isinstance(obj, list):
            out += b"]"
            self.put()
            for start in range(0, len(obj), 1000):  # cPickle BATCHSIZE
                batch = obj[start:start + 1000]
                if len(batch) == 1:
                    self.save(batch[0])
                    out += b"a"
                else:
                    out += b"("
                    for item in batch:
                        self.save(item)
                    out += b"e"
        elif isinstance(obj, dict):
            out += b"}"
            self.put()
            items = list(obj.items())
            for start in range(0, len(items), 1000):
                out += b"("
                for key, value in items[start:start + 1000]:
                    self.save(key)
                    self.save(value)
                out += b"u"
        elif isinstance(obj, np.ndarray):
            self.save(py2_ndarray(obj))
        elif isinstance(obj, Py2Global):
            out += b"c" + obj.module.encode() + b"\n" + obj.name.encode() + b"\n"
            self.put()
        elif isinstance(obj, Py2Reduce):
            self.save(obj.callable)
            self.save(obj.args)
            out += b"R"
            self.put()
            self.save(obj.state)
            out += b"b"
        else:
            raise TypeError(type(obj))

    def dumps(self, obj):
        self.save(obj)
        self.out += b"."
        return bytes(self.out)


def write_py2(path, obj):
    data = Py2CPickler().dumps(obj)
    pickletools.dis(data, out=open("/dev/null", "w"))  # structural check (marks, memo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    loaded = pickle.loads(data, encoding="bytes")
    assert list(loaded) == list(obj), (path, list(loaded))
    for key, value in obj.items():
        if isinstance(value, np.ndarray):
            assert loaded[key].dtype == np.uint8 and np.array_equal(loaded[key], value), (path, key)
        else:
            assert loaded[key] == value, (path, key)
    print(f"{path.relative_to(ROOT)}: {len(data)} bytes")


def cifar10_batch(seed, count, batch_label):
    return {
        b"batch_label": batch_label,
        b"labels": [cifar10_label(seed, n) for n in range(count)],
        b"data": images(seed, count),
        b"filenames": [f"image_{seed}_{n}.png".encode() for n in range(count)],
    }


def cifar100_file(seed, count, batch_label):
    return {
        b"filenames": [f"image_{seed}_{n}.png".encode() for n in range(count)],
        b"batch_label": batch_label,
        b"fine_labels": [cifar100_fine(seed, n) for n in range(count)],
        b"coarse_labels": [cifar100_coarse(seed, n) for n in range(count)],
        b"data": images(seed, count),
    }


VALUES = {
    "none": None, "true": True, "false": False,
    "int1": 200, "int2": 60000, "int4": -5, "long": 2**40, "min_int64": -2**63,
    "float": 1.5, "text": "h\u00e9llo \u2713", "bytes": b"\x00\xff", "empty_bytes": b"",
    "tuple": (1, (2, 3), [], ()),
    "u1": np.arange(6, dtype=np.uint8).reshape(2, 3),
    "i8": np.array([-3, 0, 2**40], dtype="<i8"),
    "i4_big_endian": np.array([1, -2, 70000], dtype=">i4"),
    "u2": np.array([0, 65535], dtype="<u2"),
    "empty_u1": np.zeros((0, 3), dtype=np.uint8),
}


def main():
    batches = [(1, 3), (2, 2), (3, 2), (4, 2), (5, 2)]
    for seed, count in batches:
        write_py2(ROOT / "cifar-10-batches-py" / f"data_batch_{seed}",
                  cifar10_batch(seed, count, f"training batch {seed} of 5".encode()))
    write_py2(ROOT / "cifar-10-batches-py" / "test_batch", cifar10_batch(0, 3, b"testing batch 1 of 1"))
    write_py2(ROOT / "cifar-100-python" / "train", cifar100_file(0, 4, b"training batch 1 of 1"))
    write_py2(ROOT / "cifar-100-python" / "test", cifar100_file(1, 2, b"testing batch 1 of 1"))

    (ROOT / "pickle").mkdir(parents=True, exist_ok=True)
    batch = cifar10_batch(1, 3, b"training batch 1 of 5")
    for protocol in (2, 4, 5):
        path = ROOT / "pickle" / f"cifar10_py3_protocol{protocol}.pkl"
        path.write_bytes(pickle.dumps(batch, protocol=protocol))
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")
    int64 = cifar10_batch(2, 2, b"training batch 2 of 5")
    int64[b"labels"] = np.array([3, 9], dtype=np.int64)
    path = ROOT / "pickle" / "cifar10_int64_labels_protocol4.pkl"
    path.write_bytes(pickle.dumps(int64, protocol=4))
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")

    write_py2(ROOT / "bad" / "no_data_key", {b"batch_label": b"testing batch 1 of 1", b"labels": [1]})
    write_py2(ROOT / "bad" / "wrong_shape", {b"labels": [1, 2], b"data": np.zeros((2, 1024), dtype=np.uint8)})
    write_py2(ROOT / "bad" / "label_out_of_range", {b"labels": [10], b"data": images(0, 1)})

    try:
        import io, zipfile
        import torch
        model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
        member = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        path = ROOT / "pickle" / "torch_state_dict_data.pkl"
        path.write_bytes(archive.read(member))
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes (torch {torch.__version__})")
    except ImportError:
        print("torch not importable: kept pickle/torch_state_dict_data.pkl as it is")

    shared = [7]
    values = dict(VALUES, shared=(shared, shared))
    for protocol in (2, 4):
        path = ROOT / "pickle" / f"values_protocol{protocol}.pkl"
        path.write_bytes(pickle.dumps(values, protocol=protocol))
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
