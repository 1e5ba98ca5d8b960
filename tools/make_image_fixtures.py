#!/usr/bin/env python3
"""Writes the image fixtures of Tests/Fixtures/images/ (see tools/FIXTURES.md, section "images").

What it writes:
  jpeg/*.JPEG             small JPEG files saved by Pillow (64x64 RGB 4:2:0, 4:4:4, progressive,
                          greyscale, and a 37x23 4:2:2 one), the Tiny-ImageNet loader's test input.
  jpeg_decoded.safetensors
                          Pillow's decode of each file, Image.open(f).convert("RGB") as the original's
                          TinyImageNet dataset does, as [3, H, W] exact F32 integers named by file stem.

How to run (from the repository root, in the oracle venv of tools/requirements-oracle.txt):
    python tools/make_image_fixtures.py

It ran with: Python 3.11, numpy 2.4.6, Pillow 13.0.0 (bundling libjpeg-turbo).
The output is byte-for-byte deterministic.
"""
import json
import pathlib

import numpy as np
import PIL
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "images"


def write_safetensors(path, tensors, metadata):
    """u64 LE header length, compact JSON header (__metadata__ first, keys sorted), tensors in
    sorted-name order as little-endian F32, header padded with spaces to a multiple of 8."""
    header = {"__metadata__": {k: metadata[k] for k in sorted(metadata)}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name], dtype="<f4")
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as fh:
        fh.write(len(hjson).to_bytes(8, "little"))
        fh.write(hjson)
        for raw in blobs:
            fh.write(raw)


def picture(height, width, seed):
    """Smooth colour gradients, a few edges and some noise: a photo-like test image, HWC uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 100 * np.sin(x / (3 + seed)) * np.cos(y / 7)
    g = 255 * x / max(width - 1, 1)
    b = 255 * y / max(height - 1, 1)
    img = np.stack([r, g, b], axis=-1)
    img[(x > width / 2) & (y < height / 3)] = [250, 20, 40]
    img += rng.normal(0, 12, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def jpeg_fixtures():
    out = ROOT / "jpeg"
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "rgb420": (picture(64, 64, 1), dict(quality=75)),
        "rgb444": (picture(64, 64, 2), dict(quality=95, subsampling=0)),
        "progressive": (picture(64, 64, 3), dict(quality=80, progressive=True)),
        "gray": (picture(64, 64, 4)[:, :, 1], dict(quality=85)),
        "odd422": (picture(23, 37, 5), dict(quality=70, subsampling=1)),
    }
    decoded = {}
    for stem, (pixels, options) in files.items():
        path = out / f"{stem}.JPEG"
        Image.fromarray(pixels).save(path, "JPEG", **options)
        rgb = np.asarray(Image.open(path).convert("RGB"))
        decoded[stem] = rgb.transpose(2, 0, 1).astype(np.float32)
    write_safetensors(ROOT / "jpeg_decoded.safetensors", decoded, {"pillow_version": PIL.__version__})


if __name__ == "__main__":
    jpeg_fixtures()
