#!/usr/bin/env python3
"""Writes the image fixtures of Tests/Fixtures/images/ (see tools/FIXTURES.md, section "images").

What it writes:
  jpeg/*.JPEG             small JPEG files saved by Pillow (64x64 RGB 4:2:0, 4:4:4, progressive,
                          greyscale, and a 37x23 4:2:2 one), the Tiny-ImageNet loader's test input.
  jpeg_decoded.safetensors
                          Pillow's decode of each file, Image.open(f).convert("RGB") as the original's
                          TinyImageNet dataset does, as [3, H, W] exact F32 integers named by file stem.
  augment_ops.safetensors torchvision's autoaugment._apply_op on PIL images (the ops of TrivialAugmentWide
                          and AutoAugment) for chosen magnitudes, both interpolations for geometric ops,
                          the magnitude bins of both policies, TrivialAugmentWide's op order and the
                          ImageNet policy table (see FIXTURES.md).

How to run (from the repository root, in the oracle venv of tools/requirements-oracle.txt):
    pip install --no-deps torchvision==0.28.0     # the version that pairs with torch 2.13
    python tools/make_image_fixtures.py

It ran with: Python 3.11, numpy 2.4.6, Pillow 13.0.0 (bundling libjpeg-turbo), torch 2.13.0+cpu,
torchvision 0.28.0. PyPI's torchvision 0.28.0 wheel is CUDA-linked and its C extension does not
load next to the CPU torch; only the pure-Python PIL transforms are used here, so the module that
registers the C operators is stubbed out before the import (see import_torchvision()).
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


def import_torchvision():
    import sys
    import types
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import torch
    import torchvision
    from torchvision.transforms import autoaugment
    from torchvision.transforms.functional import InterpolationMode
    return torch, torchvision, autoaugment, InterpolationMode


# Bin indices tried per op (signed ops also with the negative sign).
WIDE_BINS = {"ShearX": [3, 30], "ShearY": [17], "TranslateX": [4, 30], "TranslateY": [9], "Rotate": [3, 20, 30, 17],
             "Brightness": [5, 30], "Color": [12, 30], "Contrast": [8, 29], "Sharpness": [6, 30],
             "Posterize": [0, 14, 30], "Solarize": [0, 11, 30]}
IMAGENET_BINS = {"ShearX": [5], "Rotate": [9, 3], "Color": [0, 8], "Contrast": [8], "Sharpness": [7],
                 "Posterize": [8, 5], "Solarize": [5, 3]}
NO_MAGNITUDE = ["AutoContrast", "Equalize", "Invert"]


def ops_fixtures():
    torch, torchvision, autoaugment, InterpolationMode = import_torchvision()
    images = {
        "square": picture(32, 32, 7),
        # non-square, low contrast: exercises AutoContrast/Equalize tables and non-square geometry
        "narrow": (60 + picture(13, 17, 8).astype(np.int32) // 4).astype(np.uint8),
    }
    wide_space = autoaugment.TrivialAugmentWide()._augmentation_space(31)
    imagenet_space = autoaugment.AutoAugment()._augmentation_space(10, (32, 32))
    tensors, meta = {}, {"pillow_version": PIL.__version__, "torchvision_version": torchvision.__version__,
                         "torch_version": torch.__version__}
    for name, (bins, signed) in wide_space.items():
        if bins.ndim > 0:
            tensors[f"bins.wide.{name}"] = bins.to(torch.float32).numpy()
    for name, (bins, signed) in imagenet_space.items():
        if bins.ndim > 0:
            tensors[f"bins.imagenet.{name}"] = bins.to(torch.float32).numpy()
    cases = []   # (op, interpolation tag, magnitude)
    for table, space, tag in [(WIDE_BINS, wide_space, "bilinear"), (IMAGENET_BINS, imagenet_space, "nearest")]:
        for op, indices in table.items():
            bins, signed = space[op]
            for i in indices:
                m = float(bins[i].item())
                cases.append((op, tag, m))
                if signed:
                    cases.append((op, tag, -m))
    for op in NO_MAGNITUDE:
        cases.append((op, "nearest", 0.0))
    modes = {"bilinear": InterpolationMode.BILINEAR, "nearest": InterpolationMode.NEAREST}
    listing = {}
    for op, tag, m in cases:
        key = f"{op}.{tag}"
        listing.setdefault(key, []).append(m)
        k = len(listing[key]) - 1
        for image_name, pixels in images.items():
            out = autoaugment._apply_op(Image.fromarray(pixels), op, m, interpolation=modes[tag], fill=None)
            tensors[f"{image_name}.{key}.{k}"] = np.asarray(out).transpose(2, 0, 1).astype(np.float32)
    for image_name, pixels in images.items():
        tensors[f"{image_name}.input"] = pixels.transpose(2, 0, 1).astype(np.float32)
    for key, values in listing.items():
        meta[f"magnitudes.{key}"] = ",".join(repr(v) for v in values)
    policies = autoaugment.AutoAugment()._get_policies(autoaugment.AutoAugmentPolicy.IMAGENET)
    meta["policies.imagenet"] = json.dumps(policies, separators=(",", ":"))
    meta["trivial_ops"] = ",".join(wide_space.keys())
    write_safetensors(ROOT / "augment_ops.safetensors", tensors, meta)


if __name__ == "__main__":
    jpeg_fixtures()
    ops_fixtures()
