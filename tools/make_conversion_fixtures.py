#!/usr/bin/env python3
"""Writes Tests/Fixtures/conversion/: a small CLIF-trained checkpoint and the
reference evaluation of the paper's conversion sweep on it (docs/conversion.md):
test accuracy on the digits test split with its own CLIF neurons, and with LIF
neurons under soft reset and hard reset to 0, -0.02, ..., -0.1.

Ran with: Python 3, torch 2.13.0+cpu, spikingjelly 0.0.0.0.12, safetensors 0.8.0
(a venv from tools/requirements-oracle.txt).

Usage (from the repository root):
  swift build -c release
  .build/release/clif-mpi train -dataset digits -model spiking_cnn_small -neuron CLIF \\
      -T 4 -b 64 -epochs 3 -T_max 3 -out_dir /tmp/conversion-run
  python tools/make_conversion_fixtures.py /tmp/conversion-run/*/checkpoint_max.safetensors

Outputs:
- spiking_cnn_small_digits_clif.safetensors: the checkpoint's model tensors
  only (no optimiser state), with its metadata `args`, `model`, `T`.
- sweep.json: the test split's labels and pixel sum (so a test can check that
  clif-mpi's split is the one evaluated here), and per setting the top-1
  accuracy, the number of correct images and `min_margin`, the smallest
  |h - v_th| over every neuron evaluation (h the charged membrane), in float64.

The reference runs the network step by step as the original does (eval-mode
BatchNorm, the same normalised image at every step, logits summed over T), in
float64 from the float32 weights and inputs. spiking_cnn_small is clif-mpi's
model (Sources/Core/Models/SpikingVGG.swift): conv3x3(1->32, pad 1) . BN .
neuron . AvgPool2d(2) . conv3x3(32->64, pad 1) . BN . neuron . AvgPool2d(2) .
flatten . Linear(64*2*2, 10). The digits split is Sources/Core/Data/Digits.swift:
per class, a Fisher-Yates permutation drawn from RandomStream(seed 0, class)
(SplitMix64 over a mixed key, Sources/Core/Random/RandomStream.swift); the
first floor(0.8 n) of each class train, the rest test, in file order.
"""
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import save_file
from spikingjelly.clock_driven import functional, neuron as sj_neuron

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "conversion")
MASK = (1 << 64) - 1
RESETS = [None, 0.0, -0.02, -0.04, -0.06, -0.08, -0.1]


# ----------------------------------------------------------------------------- the digits split

def mix(x):
    x &= MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


class RandomStream:
    """clif-mpi's RandomStream(seed, indices...): SplitMix64 at key + position * golden."""

    def __init__(self, seed, *indices):
        k = mix(seed + 0x9E3779B97F4A7C15)
        for i in indices:
            k = mix(k ^ mix(i + 0xD1B54A32D192ED03))
        self.key, self.position = k, 0

    def next(self):
        value = mix(self.key + self.position * 0x9E3779B97F4A7C15)
        self.position += 1
        return value

    def integer(self, bound):
        return self.next() % bound


def digits_test_split():
    path = os.path.join(ROOT, "Sources", "Core", "Data", "Resources", "digits.csv.gz")
    rows = [list(map(int, line.split(","))) for line in gzip.open(path, "rt").read().split("\n") if line.strip()]
    pixels = np.array([r[:64] for r in rows], dtype=np.uint8)
    labels = np.array([r[64] for r in rows], dtype=np.int64)
    test = []
    for label in range(10):
        members = [i for i in range(len(labels)) if labels[i] == label]
        stream = RandomStream(0, label)
        for i in range(len(members) - 1, 0, -1):
            j = stream.integer(i + 1)
            members[i], members[j] = members[j], members[i]
        test += members[len(members) * 8 // 10:]
    test.sort()
    # Normalise exactly as ImageTransform does in float32: (p * (1/16) - mean) * (1/std).
    x = pixels[test].astype(np.float32) * np.float32(1 / 16)
    x = (x - np.float32(0.3053)) * (np.float32(1) / np.float32(0.3760))
    return torch.from_numpy(x.reshape(-1, 1, 8, 8)), torch.from_numpy(labels[test]), pixels[test]


# ----------------------------------------------------------------------------- neurons

MARGIN = [float("inf")]


class LIF(sj_neuron.LIFNode):
    """spikingjelly LIF as the original configures it: decay_input False, v_th 1, reset not detached."""

    def __init__(self, v_reset=None):
        super().__init__(2.0, False, 1.0, v_reset, None, False)

    def neuronal_fire(self):
        MARGIN[0] = min(MARGIN[0], (self.v - self.v_threshold).abs().min().item())
        return (self.v >= self.v_threshold).to(self.v)


class CLIF(LIF):
    """docs/neurons.md, soft reset: charge, form m, fire, strengthen m, reset, complementary reset."""

    def __init__(self):
        super().__init__(None)
        self.register_memory("m", 0.0)

    def forward(self, x):
        self.v = x if isinstance(self.v, float) else self.v * 0.5 + x
        self.m = self.m * torch.sigmoid(self.v / 2.0)
        spike = self.neuronal_fire()
        self.m = self.m + spike
        self.v = self.v - spike * 1.0
        self.v = self.v - spike * torch.sigmoid(self.m)
        return spike


def spiking_cnn_small(make_neuron):
    features = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), make_neuron(), nn.AvgPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), make_neuron(), nn.AvgPool2d(2))
    model = nn.Module()
    model.features = features
    model.classifier = nn.Linear(64 * 2 * 2, 10)
    return model


def evaluate(model, images, labels, steps):
    model.eval()
    MARGIN[0] = float("inf")
    with torch.no_grad():
        functional.reset_net(model)
        x = images.double()
        total = 0
        for _ in range(steps):
            total = total + model.classifier(model.features(x).flatten(1))
        functional.reset_net(model)
    correct = int((total.argmax(1) == labels).sum())
    return correct, MARGIN[0]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    source = sys.argv[1]
    with safe_open(source, "pt") as f:
        metadata = f.metadata()
        state = {k: f.get_tensor(k) for k in f.keys() if not k.startswith("optimizer.")}
    args = metadata.get("args", "")
    steps = int(args.split("T=")[1].split(",")[0])
    assert "neuron_model='CLIF'" in args and "model='spiking_cnn_small'" in args and "dataset='digits'" in args, args
    os.makedirs(OUT, exist_ok=True)
    save_file(state, os.path.join(OUT, "spiking_cnn_small_digits_clif.safetensors"),
              metadata={"args": args, "model": "spiking_cnn_small", "T": str(steps)})

    images, labels, pixels = digits_test_split()
    results = []
    for neuron, reset in [("CLIF", None)] + [("LIF", r) for r in RESETS]:
        model = spiking_cnn_small(CLIF if neuron == "CLIF" else (lambda r=reset: LIF(r)))
        model.load_state_dict(state, strict=True)
        model.double()
        correct, margin = evaluate(model, images, labels, steps)
        results.append({"neuron": neuron, "v_reset": reset, "correct": correct,
                        "top1": correct / len(labels), "min_margin": margin})
        print(f"{neuron} {'soft' if reset is None else reset}: {correct}/{len(labels)} min_margin {margin:.2e}")
    sweep = {
        "torch_version": torch.__version__, "spikingjelly_version": "0.0.0.0.12",
        "checkpoint": "spiking_cnn_small_digits_clif.safetensors", "T": steps, "tau": 2.0,
        "test_count": len(labels), "test_labels": labels.tolist(), "test_pixel_sum": int(pixels.astype(np.int64).sum()),
        "results": results,
    }
    with open(os.path.join(OUT, "sweep.json"), "w") as f:
        json.dump(sweep, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
