#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/<Target>/: small valid files in each format.

Seeds are small (each under 10 KB) so libFuzzer's length limit stays low and its
mutations reach every header field. They come from two sources:
  * files written here with the Python standard library only (struct, json, zipfile,
    gzip, pickle): safetensors, IDX (raw and gzipped), CIFAR binary records, plain
    pickles of every opcode family the reader accepts, a ZIP with ZIP64 fields, AEDAT 3.1
    and 2.0 event files, DVS128 Gesture label CSVs and trial lists, frame caches, Tiny-ImageNet
    wnids.txt and val_annotations.txt, checkpoint headers with metadata, run arguments (JSON
    and Namespace text);
  * copies of small committed test fixtures in the real formats (Tests/Fixtures/pth
    for torch.save archives, Tests/Fixtures/data for CIFAR/NumPy pickles, and
    Tests/Fixtures/images/jpeg for JPEGs), which the generators under tools/ wrote.

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
import zlib

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


AEDAT3_HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"
AEDAT2_HEADER = b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"


def aedat3_packet(kind, events, overflow=0, capacity=None):
    """A 28-byte packet header (type, source, event size 8, TS offset 4, overflow,
    capacity, number, valid) and 8-byte events: data (x << 17 | y << 2 | p << 1 | valid), timestamp."""
    count = len(events)
    header = struct.pack("<HHIIIIII", kind, 1, 8, 4, overflow, count if capacity is None else capacity, count, count)
    return header + b"".join(struct.pack("<II", x << 17 | y << 2 | p << 1 | 1, t) for x, y, p, t in events)


def aedat2_event(x, y, p, t):
    """The DVS128 address layout CIFAR10-DVS uses: x mirrored in bits 1-7, y in 8-14, polarity inverted."""
    return struct.pack(">II", (127 - x) << 1 | y << 8 | (1 - p), t)


def frame_cache(labels, values, fingerprint=0x0123456789ABCDEF):
    """Format version 1 of Sources/Core/Data/Events/FrameCache.swift (T 2, C 2, H 4, W 4, 11 classes, by number)."""
    contents = struct.pack(f"<{len(labels)}I", *labels) + struct.pack(f"<{len(values)}f", *values)
    header = b"CLIFFRM\n" + struct.pack("<8IQI", 1, 2, 2, 4, 4, len(labels), 11, 0, fingerprint, zlib.crc32(contents))
    return header + bytes(64 - len(header)) + contents


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

    # AEDAT 3.1 (DVS128 Gesture): polarity packets, a special-event packet the reader
    # skips, a timestamp overflow; and a truncated packet and an oversized count.
    events = [(x * 9 % 128, x * 5 % 128, x % 2, 1000 + 37 * x) for x in range(40)]
    body = aedat3_packet(1, events[:24]) + aedat3_packet(0, [(0, 0, 0, 1500)]) + \
        aedat3_packet(1, events[24:], overflow=1)
    write("AEDAT31", "gesture.aedat", AEDAT3_HEADER + body)
    write("AEDAT31", "one_event.aedat", AEDAT3_HEADER + aedat3_packet(1, events[:1]))
    write("AEDAT31", "truncated.aedat", AEDAT3_HEADER + aedat3_packet(1, events[:4])[:-5])
    write("AEDAT31", "oversized_count.aedat", AEDAT3_HEADER + aedat3_packet(1, events[:4], capacity=1 << 30))

    # AEDAT 2.0 (CIFAR10-DVS): big-endian (address, timestamp) pairs after the text header.
    write("AEDAT20", "cifar10dvs.aedat", AEDAT2_HEADER + b"".join(aedat2_event(*e) for e in events))
    write("AEDAT20", "no_header.aedat", b"".join(aedat2_event(*e) for e in events[:3]))
    write("AEDAT20", "truncated.aedat", AEDAT2_HEADER + aedat2_event(*events[0])[:5])

    # DVS128 Gesture labels CSV.
    write("GestureLabels", "user01_fluorescent_labels.csv",
          b"class,startTime_usec,endTime_usec\r\n1,1000,1500\r\n11,1500,2400\r\n")
    write("GestureLabels", "unix_newlines.csv", b"class,startTime_usec,endTime_usec\n3,0,9\n\n")

    # Frame caches for the key fuzz/Targets/FrameCache uses (T 2, C 2, 4x4, 11 classes).
    write("FrameCache", "two_samples.frames", frame_cache([3, 10], [float(i % 5) for i in range(2 * 64)]))
    write("FrameCache", "empty.frames", frame_cache([], []))

    # DVS128 Gesture trial lists.
    write("GestureTrials", "trials_to_train.txt", b"user01_fluorescent.aedat\nuser01_led.aedat\nuser02_natural.aedat\n")
    write("GestureTrials", "crlf_blank.txt", b"user29_lab.aedat\r\n\r\n  user30_led.aedat \r\n")

    # Tiny-ImageNet class list and validation annotations (the classes fuzz/Targets/TinyImageNetLists knows).
    write("TinyImageNetLists", "wnids.txt", b"n09999999\nn01443537\nn01629819\n")
    write("TinyImageNetLists", "val_annotations.txt",
          b"val_0.JPEG\tn09999999\t0\t0\t10\t10\nval_1.JPEG\tn01443537\t1\t2\t30\t40\nval_2.JPEG\tn01629819\t0\t0\t63\t63\n")

    # Checkpoint metadata: safetensors headers (the target adds the length prefix) of a
    # current checkpoint (JSON arguments) and an older one (Namespace text).
    run_arguments = {"format": "clif-mpi-arguments/1", "values": {
        "T": 4, "amp": False, "b": 48, "lr": 0.1, "name": "a, b='c' (é)", "pre_train": None, "seed": 2022, "tau": 2.0}}
    current = {"format": "clif-mpi-checkpoint/1", "model": "spiking_cnn_small", "epoch": "2", "global_step": "40",
               "max_test_acc": "0.5", "batch_in_epoch": "3", "epoch_sums": "1.5,2,3,4", "optimizer": "AdamW",
               "optimizer_scalars": "step=40", "chunk_samples": "16", "batch_size": "48",
               "arguments": json.dumps(run_arguments, separators=(",", ":"), sort_keys=True)}
    older = dict(current, args="Namespace(T=4, b=48, lr=0.1, name='a, b', pre_train=None)")
    del older["arguments"], older["batch_size"], older["chunk_samples"]
    tensor = {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    for name, metadata in [("current.json", current), ("older.json", older)]:
        write("CheckpointMetadata", name, json.dumps(dict(tensor, __metadata__=metadata), separators=(",", ":")).encode())

    # The run's arguments: the JSON form and the older Namespace text (as a checkpoint of the
    # conversion fixtures holds it, and one with awkward text).
    write("RunArguments", "arguments.json", json.dumps(run_arguments, separators=(",", ":"), sort_keys=True).encode())
    conversion = os.path.join(FIXTURES, "conversion", "spiking_cnn_small_digits_clif.safetensors")
    with open(conversion, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        write("RunArguments", "namespace.txt", json.loads(f.read(length))["__metadata__"]["args"].encode())
    write("RunArguments", "namespace_awkward.txt",
          "Namespace(T=4, b=48, name='it's, x=(1)', out_dir='/tmp/Zürich', pre_train=None, seed=2022)".encode())

    # JPEG: the small committed Tiny-ImageNet decoding fixtures (grey, 4:2:0, 4:2:2 odd size, progressive).
    for name in ["gray.JPEG", "rgb420.JPEG", "odd422.JPEG", "progressive.JPEG"]:
        copy("JPEG", "images/jpeg/" + name)


if __name__ == "__main__":
    main()
