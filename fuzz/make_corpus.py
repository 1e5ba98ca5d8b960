#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/<Target>/: small valid files in each format.

Seeds are small (each under 10 KB) so libFuzzer's length limit stays low and its
mutations reach every header field. They come from two sources:
  * files written here with the Python standard library only (struct, json, zipfile,
    gzip, pickle): safetensors, IDX (raw and gzipped), CIFAR binary records, plain
    pickles of every opcode family the reader accepts, a ZIP with ZIP64 fields;
  * copies of small committed test fixtures in the real formats (Tests/Fixtures/pth
    for torch.save archives, Tests/Fixtures/data for CIFAR/NumPy pickles), which
    tools/make_pth_fixtures.py and tools/make_data_fixtures.py wrote with torch/numpy.

Run from the repository root (deterministic; re-running leaves git status clean):
    python3 fuzz/make_corpus.py
"""
import gzip
import io
import json
import os
import pickle
import shutil
import struct
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def copy(target, fixture, name=None):
    write(target, name or os.path.basename(fixture), open(os.path.join(FIXTURES, fixture), "rb").read())


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes), laid out in order."""
    header, offset, body = {}, 0, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        body += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def gzip_bytes(data):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as f:
        f.write(data)
    return out.getvalue()


def idx(shape, data):
    return bytes([0, 0, 8, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape) + bytes(data)


def stored_zip(entries, force_zip64=False):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            with z.open(info, "w", force_zip64=force_zip64) as f:
                f.write(data)
    return out.getvalue()


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)

    # safetensors: every dtype the reader knows, a 0-d tensor, metadata, an empty file.
    f32 = struct.pack("<6f", 0.5, -1.0, 2.0, 3.25, -0.125, 1e-3)
    write("SafeTensors", "f32_2x3_meta.safetensors", safetensors(
        [("conv.weight", "F32", [2, 3], f32), ("bn.num_batches_tracked", "I64", [], struct.pack("<q", 7))],
        {"format": "clif-mpi-checkpoint/1", "epoch": "3", "epoch_sums": "1.5,2,3,4"}))
    write("SafeTensors", "all_dtypes.safetensors", safetensors([
        ("a", "F64", [2], struct.pack("<2d", 1.5, -2.0)), ("b", "I32", [1, 2], struct.pack("<2i", -3, 4)),
        ("c", "U8", [3], bytes([1, 2, 255])), ("d", "BOOL", [2], bytes([0, 1])),
        ("e", "F32", [0, 4], b"")]))
    write("SafeTensors", "empty.safetensors", safetensors([]))
    copy("SafeTensors", "pth/views.expected.safetensors")

    # torch.save archives (stored ZIP + data.pkl): the small committed fixtures.
    for name in ["views.pth", "state_dict.pth", "big_endian.pth", "truncated.pth", "evil_os_system.pth"]:
        copy("TorchCheckpoint", "pth/" + name)

    # ZIP: torch archives plus ZIP64 records and several entries.
    for name in ["views.pth", "deflated.pth"]:
        copy("ZipArchive", "pth/" + name)
    write("ZipArchive", "two_entries.zip", stored_zip([("a/data.pkl", b"\x80\x02}q\x00."), ("a/byteorder", b"little")]))
    write("ZipArchive", "zip64.zip", stored_zip([("a/data/0", bytes(range(40)))], force_zip64=True))

    # Pickles: plain values at protocols 2-5, plus NumPy and torch data.pkl from the fixtures.
    values = {"labels": [0, 1, 9], "data": b"\x00\x01\xff", "name": "x", "f": 0.5, "big": 1 << 40,
              "neg": -(1 << 20), "t": (None, True, False), "nested": [[1, 2], {"k": (3,)}], "ba": bytearray(b"z")}
    shared = [1, 2]
    values["shared"] = [shared, shared]
    for protocol in [2, 3, 4, 5]:
        write("Pickle", f"values_protocol{protocol}.pkl", pickle.dumps(values, protocol=protocol))
    for name in ["values_protocol2.pkl", "torch_state_dict_data.pkl", "cifar10_int64_labels_protocol4.pkl"]:
        copy("Pickle", "data/pickle/" + name)

    # CIFAR python batches, as the originals (py2 cPickle) and as Python 3 + NumPy write them.
    copy("CIFARPickle", "data/cifar-10-batches-py/data_batch_2", "cifar10_py2_batch")
    copy("CIFARPickle", "data/cifar-100-python/test", "cifar100_py2_test")
    for name in ["cifar10_py3_protocol4.pkl", "cifar10_py3_protocol5.pkl", "cifar10_int64_labels_protocol4.pkl"]:
        copy("CIFARPickle", "data/pickle/" + name)

    # CIFAR binary: CIFAR-10 records (label, 3072 pixels), CIFAR-100 (coarse, fine, 3072 pixels).
    pixels = bytes((i * 7) % 256 for i in range(3072))
    write("CIFARBinary", "cifar10_two_records.bin", bytes([3]) + pixels + bytes([9]) + pixels[::-1])
    write("CIFARBinary", "cifar100_one_record.bin", bytes([4, 42]) + pixels)

    # IDX: images and labels, raw and gzipped.
    images = idx([2, 28, 28], [(i * 13) % 256 for i in range(2 * 28 * 28)])
    labels = idx([2], [7, 3])
    write("IDX", "images-idx3-ubyte", images)
    write("IDX", "labels-idx1-ubyte", labels)
    write("IDX", "images-idx3-ubyte.gz", gzip_bytes(images))
    write("IDX", "labels-idx1-ubyte.gz", gzip_bytes(labels))


if __name__ == "__main__":
    main()
