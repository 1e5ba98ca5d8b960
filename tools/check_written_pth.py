#!/usr/bin/env python3
"""Checks by hand that a .pth written by `clif-mpi convert` is what the original
CLIF code reads (not run by the tests, which never need Python).

Ran with: torch 2.13.0+cpu, safetensors 0.8.0 (a venv from tools/requirements-oracle.txt).
Usage (spiking_cnn_small trained on digits, SGD or AdamW):
  .build/release/clif-mpi convert runs/<run>/checkpoint_max.safetensors /tmp/max.pth
  python tools/check_written_pth.py /tmp/max.pth runs/<run>/checkpoint_max.safetensors

Checks: torch.load(weights_only=True) and with mmap=True (64-byte aligned
storages); the keys of the original's dict; `net` loads into the reference
spiking_cnn_small with load_state_dict(strict=True), every tensor equal to the
safetensors checkpoint with the same dtype; the optimiser state loads into
torch's SGD/AdamW with the buffers equal, the scheduler state into
CosineAnnealingLR/StepLR, and one training step runs after loading.
"""
import sys

import torch
import torch.nn as nn
from safetensors.torch import load_file


def spiking_cnn_small():
    """The reference module tree (neurons as Identity: they hold no state_dict entries
    except PLIF's `w`, which this check does not cover)."""
    model = nn.Module()
    model.features = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.Identity(), nn.AvgPool2d(2),
                                   nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.Identity(), nn.AvgPool2d(2))
    model.classifier = nn.Linear(64 * 2 * 2, 10)
    model.forward = lambda x: model.classifier(model.features(x).flatten(1))
    return model


def main():
    pth, safetensors = sys.argv[1], sys.argv[2]
    checkpoint = torch.load(pth, weights_only=True)
    torch.load(pth, weights_only=True, mmap=True)
    assert list(checkpoint) == ["net", "optimizer", "lr_scheduler", "epoch", "max_test_acc"], list(checkpoint)
    reference = load_file(safetensors)
    model = spiking_cnn_small()
    model.load_state_dict(checkpoint["net"], strict=True)
    for name, tensor in checkpoint["net"].items():
        assert tensor.dtype == reference[name].dtype and torch.equal(tensor, reference[name]), name
    groups = checkpoint["optimizer"]["param_groups"]
    if "betas" in groups[0]:
        optimizer = torch.optim.AdamW(model.parameters(), lr=groups[0]["initial_lr"])
        states = ["exp_avg", "exp_avg_sq"]
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=groups[0]["initial_lr"], momentum=0.9)
        states = ["momentum_buffer"]
    optimizer.load_state_dict(checkpoint["optimizer"])
    for name, parameter in model.named_parameters():
        for state in states:
            assert torch.equal(optimizer.state[parameter][state], reference[f"optimizer.{state}.{name}"]), (state, name)
    scheduler_state = checkpoint["lr_scheduler"]
    if "T_max" in scheduler_state:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=scheduler_state["T_max"])
    else:
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=scheduler_state["step_size"])
    scheduler.load_state_dict(scheduler_state)
    model(torch.randn(2, 1, 8, 8)).sum().backward()
    optimizer.step()
    scheduler.step()
    print(f"ok: {len(checkpoint['net'])} tensors, epoch {checkpoint['epoch']}, max_test_acc {checkpoint['max_test_acc']}, "
          f"{type(optimizer).__name__} state, lr {groups[0]['lr']:.6g} -> {scheduler.get_last_lr()[0]:.6g}")


if __name__ == "__main__":
    main()
