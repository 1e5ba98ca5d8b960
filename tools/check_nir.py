#!/usr/bin/env python3
"""Runs a NIR file written by `clif-mpi export-nir` in snnTorch and compares
it with clif-mpi's own forward on the same test images.

    clif-mpi export-nir --checkpoint run/checkpoint_max.safetensors -o model.nir \
        --reference reference.h5 --samples 32
    python tools/check_nir.py model.nir reference.h5

The `nir` package reads the file (with its type check), snnTorch's
`import_from_nir` builds the network, which is run for T steps on the
reference images; the spikes of the last spiking layer and the logits of
every step are compared with clif-mpi's. Exit status 0 when every spike is
the same and the logits agree within --tolerance; the last line states the
counts either way.

snnTorch simulates NIR's LIF by forward Euler with a fixed dt of 1e-4
(beta = 1 - dt/tau, input gain r·dt/tau), which is why export-nir writes its
time constants for dt = 1e-4 by default.

Ran with: Python 3.11, nir 1.0.8, nirtorch (pip, alongside snntorch),
snntorch 1.0.0, torch 2.13.0+cpu, h5py 3.16.0, numpy 2.4.6.
"""
import argparse
import sys

import h5py
import nir
import numpy as np
import snntorch
import torch
from snntorch.import_nir import import_from_nir


def flatten_without_batch(net: torch.nn.Module) -> None:
    """NIR's Flatten dimensions exclude the batch; snnTorch's importer hands
    them to torch.nn.Flatten unchanged, which would fold the batch in too."""
    for name, module in list(net.named_children()):
        if isinstance(module, torch.nn.Flatten):
            start = module.start_dim + 1 if module.start_dim >= 0 else module.start_dim
            end = module.end_dim + 1 if module.end_dim >= 0 else module.end_dim
            setattr(net, name, torch.nn.Flatten(start, end))


def in_float64(net: torch.nn.Module) -> None:
    """Runs the imported network in float64: parameters, neuron constants, and
    the inputs of every layer (snnTorch's spikes are float32 whatever the
    membrane is)."""
    net.double()
    for module in net.modules():
        if isinstance(module, snntorch.Leaky):
            module.threshold = module.threshold.double()
            module.beta = module.beta.double()
        elif isinstance(module, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.AvgPool2d)):
            module.register_forward_pre_hook(lambda _m, inputs: tuple(x.double() for x in inputs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="the .nir file export-nir wrote")
    parser.add_argument("reference", help="the --reference file export-nir wrote")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="largest logit difference accepted, relative to the largest logit (default 1e-4)")
    parser.add_argument("--float64", action="store_true",
                        help="simulate in float64 (in float32 the importer's rounding can flip a spike "
                             "whose membrane lies within a few ulps of the threshold)")
    args = parser.parse_args()

    graph = nir.read(args.model)
    with h5py.File(args.reference, "r") as f:
        images = torch.tensor(f["images"][()])
        spikes = f["spikes"][()]
        logits = f["logits"][()]
        last = f["last_neuron"][()].decode()
    steps, samples = spikes.shape[0], spikes.shape[1]

    net = import_from_nir(graph)
    flatten_without_batch(net)
    if args.float64:
        in_float64(net)
        images = images.double()
    neuron = net.get_submodule(last.replace(".", "_"))
    for module in net.modules():
        if isinstance(module, snntorch.Leaky):
            module.reset_mem()
    seen = []
    neuron.register_forward_hook(lambda _m, _i, out: seen.append(out.detach().numpy().copy()))
    outputs = []
    with torch.no_grad():
        for _ in range(steps):
            out = net(images)
            outputs.append((out[0] if isinstance(out, tuple) else out).numpy().copy())
    got_spikes = np.stack(seen).reshape(spikes.shape)
    got_logits = np.stack(outputs).reshape(logits.shape)

    differing = int(np.sum(got_spikes != spikes))
    fired = int(np.sum(spikes))
    logit_error = float(np.max(np.abs(got_logits - logits)))
    scale = max(float(np.max(np.abs(logits))), 1.0)
    same_class = int(np.sum(got_logits.sum(0).argmax(-1) == logits.sum(0).argmax(-1)))
    ok = differing == 0 and logit_error <= args.tolerance * scale
    print(f"{args.model}: snnTorch {snntorch.__version__}{' (float64)' if args.float64 else ''}, {samples} images, T={steps}: "
          f"{differing} of {spikes.size} spikes of {last} differ ({fired} fired), "
          f"max logit difference {logit_error:.3g}, same class for {same_class} of {samples}"
          f" — {'match' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
