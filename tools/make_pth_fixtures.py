#!/usr/bin/env python3
"""Writes Tests/Fixtures/pth/: PyTorch `.pth` checkpoints as the original CLIF
code saves them, their expected contents as safetensors, and hostile files.

Ran with: Python 3, torch 2.13.0+cpu, safetensors 0.8.0 (a venv from tools/requirements-oracle.txt).
Usage: python tools/make_pth_fixtures.py [output folder]

Expected files (`<name>.expected.safetensors`) hold every tensor contiguous:
`net.<state_dict name>` and `optimizer.<state>.<parameter name>`, with the
metadata `epoch`, `max_test_acc`, `optimizer` where the checkpoint has them.
The hostile files are built by hand (raw pickle opcodes, rewritten zips);
nothing in them is ever unpickled here.
"""
import io
import os
import sys
import zipfile
from collections import OrderedDict

import torch
import torch.nn as nn
from safetensors.torch import save_file

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "pth")
os.makedirs(OUT, exist_ok=True)


class Neuron(nn.Module):
    """Stands in for a PLIF neuron: one 0-d parameter `w`."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(0.25))

    def forward(self, x):
        return torch.sigmoid(self.w) * x


class TinyNet(nn.Module):
    """Names like the original's spiking_vgg: features.<i>.*, classifier.*."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), Neuron(),
            nn.Conv2d(3, 2, 3, padding=1), nn.BatchNorm2d(2), Neuron())
        self.classifier = nn.Linear(2 * 4 * 4, 5)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def train(net, optimizer, steps):
    net.train()
    for _ in range(steps):
        x = torch.randn(4, 1, 4, 4)
        y = torch.randint(0, 5, (4,))
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()


def expected(path, net_sd, optimizer=None, meta=None):
    tensors = OrderedDict(("net." + k, v.detach().clone().contiguous()) for k, v in net_sd.items())
    if optimizer is not None:
        names = [k for k, _ in optimizer["__named__"]]
        for index, state in optimizer["state"].items():
            for key, value in state.items():
                tensors[f"optimizer.{key}.{names[index]}"] = value.detach().clone().contiguous()
    save_file(tensors, os.path.join(OUT, path), metadata=meta)


def checkpoint(name, make_optimizer, steps, epoch, max_test_acc, kind):
    torch.manual_seed(0)
    net = TinyNet()
    optimizer = make_optimizer(net.parameters())
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    train(net, optimizer, steps)
    scheduler.step()
    torch.save({"net": net.state_dict(), "optimizer": optimizer.state_dict(), "lr_scheduler": scheduler.state_dict(),
                "epoch": epoch, "max_test_acc": max_test_acc}, os.path.join(OUT, name + ".pth"))
    opt_sd = optimizer.state_dict()
    opt_sd["__named__"] = list(net.named_parameters())
    expected(name + ".expected.safetensors", net.state_dict(), opt_sd,
             {"epoch": str(epoch), "max_test_acc": repr(max_test_acc), "optimizer": kind})
    return net


def rewrite(source, target, change):
    """Copies the zip `source` to `target`, entry by entry, through `change(name, bytes)`
    (returning None drops the entry; a (bytes, compression) pair sets the method)."""
    with zipfile.ZipFile(os.path.join(OUT, source)) as zin, \
            zipfile.ZipFile(os.path.join(OUT, target), "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            result = change(info.filename, zin.read(info.filename))
            if result is None:
                continue
            data, method = result if isinstance(result, tuple) else (result, zipfile.ZIP_STORED)
            zout.writestr(zipfile.ZipInfo(info.filename), data, compress_type=method)


net = checkpoint("checkpoint", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4), 1,
                 epoch=4, max_test_acc=0.625, kind="SGD")
checkpoint("checkpoint_adamw", lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=1e-2), 2,
           epoch=7, max_test_acc=0.875, kind="AdamW")

# A bare state_dict, as `torch.save(net.state_dict(), path)` writes it.
torch.save(net.state_dict(), os.path.join(OUT, "state_dict.pth"))
expected("state_dict.expected.safetensors", net.state_dict())

# Views: non-contiguous strides, storage offsets, a shared storage, other dtypes.
base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
views = OrderedDict([
    ("transposed", base.t()),                       # stride (1, 6)
    ("sliced", base[1:, 1::2]),                     # offset 7, stride (6, 2)
    ("row", base[2]),                               # offset 12, shares base's storage
    ("base", base),
    ("scalar", base[3, 5]),                         # 0-d with an offset
    ("float64", torch.linspace(-1, 1, 5, dtype=torch.float64)),
    ("int64", torch.tensor([[-3, 2**40], [7, 0]], dtype=torch.int64).t()),
    ("int32", torch.tensor([1, -2, 3], dtype=torch.int32)),
    ("uint8", torch.tensor([0, 128, 255], dtype=torch.uint8)),
    ("bool", torch.tensor([True, False, True])),
    ("expanded", torch.tensor([1.5, -2.5]).expand(3, 2)),  # stride (0, 1)
])
torch.save({"net": views, "epoch": 0, "max_test_acc": 0.0}, os.path.join(OUT, "views.pth"))
expected("views.expected.safetensors", views, meta={"epoch": "0", "max_test_acc": "0.0"})


# The original's checkpoint of a model clif-mpi builds: spiking_cnn_small for
# 1×8×8 digits (features.0 conv, .1 BN, .2 CLIF, .3 pool, .4 conv, .5 BN,
# .6 CLIF, .7 pool; classifier 256 → 10). CLIF neurons hold no parameters, so
# plain modules stand in for them; the weights are an SGD step from PyTorch's init.
torch.manual_seed(7)
small = nn.Sequential(OrderedDict([("features", nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.Identity(), nn.AvgPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.Identity(), nn.AvgPool2d(2))),
    ("flatten", nn.Flatten()), ("classifier", nn.Linear(256, 10))]))
small_sgd = torch.optim.SGD(small.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
nn.functional.cross_entropy(small(torch.randn(8, 1, 8, 8)), torch.arange(8)).backward()
small_sgd.step()
small_sd = OrderedDict((k, v) for k, v in small.state_dict().items())
torch.save({"net": small_sd, "optimizer": small_sgd.state_dict(), "lr_scheduler": {}, "epoch": 3,
            "max_test_acc": 0.5}, os.path.join(OUT, "spiking_cnn_small_digits.pth"))


# Hostile and broken files.
def archive(name, pickle_bytes, extra=()):
    with zipfile.ZipFile(os.path.join(OUT, name), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        for entry, data in extra:
            z.writestr(entry, data)
        z.writestr("archive/version", "3\n")


# GLOBAL 'os system', ('echo pwned',), REDUCE, STOP — what a malicious checkpoint does.
archive("evil_os_system.pth", b"\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R.")
# The same with protocol 4's STACK_GLOBAL, hidden as a state_dict value.
archive("evil_builtins_eval.pth",
        b"\x80\x04}\x8c\x03net\x8c\x08builtins\x8c\x04eval\x93\x8c\x0a1+1\x85R\x73.")
data = open(os.path.join(OUT, "state_dict.pth"), "rb").read()
open(os.path.join(OUT, "truncated.pth"), "wb").write(data[: len(data) // 2])
rewrite("state_dict.pth", "missing_storage.pth", lambda n, d: None if n.endswith("/data/0") else d)
rewrite("state_dict.pth", "short_storage.pth", lambda n, d: d[:4] if n.endswith("/data/0") else d)
rewrite("state_dict.pth", "big_endian.pth", lambda n, d: b"big" if n.endswith("/byteorder") else d)
rewrite("state_dict.pth", "deflated.pth",
        lambda n, d: (d, zipfile.ZIP_DEFLATED) if n.endswith("data.pkl") else d)
torch.save(net.state_dict(), os.path.join(OUT, "legacy.pth"), _use_new_zipfile_serialization=False)
print("wrote", sorted(os.listdir(OUT)))
