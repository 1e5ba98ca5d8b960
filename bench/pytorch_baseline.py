#!/usr/bin/env python3
"""PyTorch CPU baseline for clif-mpi's `bench`: times training steps of the ORIGINAL recipe.

One step is the original's train loop (train.py of the CLIF paper's code) on synthetic data:
    optimizer.zero_grad()
    out_all = cat([net(x) for t in range(T)])     # the same static image at every step,
                                                  # the whole network called once per step
    loss = (1-λ)·CE(out_all, y_rep) + λ·MSE(out_all, target)   # λ 0.05, target = loss_means 1.0
    loss.backward(); loss.item(); SGD(lr 0.1, momentum 0.9, wd 5e-4).step()
    functional.reset_net(net)
The loss over the stacked [T·N, classes] logits is what the original computes; it equals the
sum over t of the per-step loss / T (CE and MSE are means).

The models, the CLIF/LIF/PLIF neurons (spikingjelly 0.0.0.0.12 LIFNode based), the Rectangle
surrogate and the loss come from tools/make_fixtures.py (the project's PyTorch oracle), with its
margin recorder switched off (it is instrumentation, not part of the original).

Precision: fp32, or bf16 = torch.autocast('cpu', dtype=torch.bfloat16) around the forward
steps and the loss (the original uses fp16 autocast + GradScaler on CUDA; bf16 needs no scaler).

Dense-equivalent GFLOP/s use clif-mpi's count: the multiply-adds of the Conv2d/Linear layers in
one forward step (counted with forward hooks) × T × 2 FLOP × 3 (forward + backward).

    bench/pytorch_baseline.py                                   # spiking_resnet18 CLIF T 6 b 32 3x32x32
    bench/pytorch_baseline.py --model spiking_vgg11_bn --input 2x48x48 -T 10 -b 32
    bench/pytorch_baseline.py --precision bf16 --steps 3 --warmup 1 --threads 2

With --data-dir the whole original training run up to --max-steps optimiser steps: the dataset read
from files on disk through the original's DataLoader (-j workers, the original's default 0; see
bench/pytorch_data.py), the same train step, then exit — timed from outside as a whole process by
bench/end-to-end.sh:
    bench/pytorch_baseline.py --data-dir DIR --dataset cifar10 --max-steps 5
    bench/pytorch_baseline.py --data-dir DIR/DVSCIFAR10 --dataset DVSCIFAR10 --model spiking_vgg11_bn -T 10 --max-steps 5
    bench/pytorch_baseline.py --data-dir DIR/DVSCIFAR10 --dataset DVSCIFAR10 -T 10 --prepare   # frame files, once

Last line (parsed by bench/compare.sh):
    pytorch <precision>: samples/s X  step Y s  GFLOP/s Z  peak RSS W MB
"""

import argparse
import os
import resource
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, os.path.join(REPO, "tools"))

try:
    import torch
    import torch.nn as nn
except ImportError:  # pragma: no cover
    sys.exit(f"pytorch_baseline: torch is not installed for {sys.executable} "
             "(make a venv from tools/requirements-oracle.txt)")

import make_fixtures as mf  # noqa: E402  (the oracle's models, neurons, surrogate and loss)
from spikingjelly.clock_driven import functional as sj_functional  # noqa: E402

# make_fixtures turns on deterministic algorithms and float64-oriented checks for the fixtures;
# the original trains with the defaults.
torch.use_deterministic_algorithms(False)
# The oracle's neurons record spike margins (several reductions and .item() syncs per neuron
# call); the original has no such instrumentation.
mf.RECORDER.record = lambda *args, **kwargs: None


def parse_shape(text):
    parts = [int(p) for p in text.lower().split("x")]
    if len(parts) != 3 or min(parts) <= 0:
        raise argparse.ArgumentTypeError(f"--input {text} is not CxHxW (e.g. 3x32x32)")
    return parts


def forward_macs_per_sample(net, shape):
    """Multiply-adds of Conv2d and Linear layers in one forward time step, per sample."""
    total = [0]

    def conv_hook(m, inp, out):
        k = (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        total[0] += out.numel() * k

    def linear_hook(m, inp, out):
        total[0] += out.numel() * m.in_features

    hooks = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = net.training
    net.eval()  # running statistics untouched
    with torch.no_grad():
        net(torch.zeros(1, *shape))
    sj_functional.reset_net(net)
    net.train(was_training)
    for h in hooks:
        h.remove()
    return total[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="spiking_resnet18")
    ap.add_argument("--neuron", default="CLIF", choices=sorted(mf.NEURONS))
    ap.add_argument("-T", type=int, default=6, help="time steps")
    ap.add_argument("-b", type=int, default=32, help="batch size")
    ap.add_argument("--input", type=parse_shape, default=[3, 32, 32], help="CxHxW")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--steps", type=int, default=3, help="timed steps")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--data-dir", help="train from these files (cifar10: the folder holding cifar-10-batches-py; "
                                       "DVSCIFAR10: the folder holding extract/) instead of synthetic batches")
    ap.add_argument("--dataset", choices=["cifar10", "DVSCIFAR10"], default="cifar10")
    ap.add_argument("--max-steps", type=int, default=5, help="with --data-dir: optimiser steps, then exit")
    ap.add_argument("-j", type=int, default=0, help="with --data-dir: DataLoader workers (the original's -j, default 0)")
    ap.add_argument("--prepare", action="store_true", help="with --data-dir: only write DVSCIFAR10's frame files (spikingjelly's frames_number_T_split_by_number/)")
    args = ap.parse_args()
    if args.data_dir:
        if args.dataset == "DVSCIFAR10":
            args.input = [2, 48, 48]
        elif args.input != [3, 32, 32]:
            sys.exit(f"pytorch_baseline: --dataset cifar10 holds 3x32x32 images, not --input {'x'.join(map(str, args.input))}")
        import pytorch_data
        pytorch_data.prepare(args.dataset, args.data_dir, args.T)
        if args.prepare:
            return
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    c, h, w = args.input
    net = mf.build(args.model, mf.neuron_factory(args.neuron, tau=2.0, surrogate="rectangle"),
                   num_classes=args.classes, c_in=c)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    if not args.data_dir:  # a forward pass to count; not part of the original's run
        macs = forward_macs_per_sample(net, args.input)
        flop_per_sample = 2.0 * macs * args.T * 3.0

    bf16 = args.precision == "bf16"
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else None

    def step(x, y):
        opt.zero_grad()
        outs = []
        for t in range(args.T):
            xt = x[:, t] if x.dim() == 5 else x  # event frames [N, T, C, H, W]: frame t at step t
            if autocast:
                with autocast():
                    outs.append(net(xt))
            else:
                outs.append(net(xt))
        out_all = torch.cat(outs, 0)
        if autocast:
            with autocast():
                loss = mf.clif_loss(out_all, y, args.T, args.classes, lam=0.05, loss_means=1.0)
        else:
            loss = mf.clif_loss(out_all, y, args.T, args.classes, lam=0.05, loss_means=1.0)
        loss.backward()
        value = loss.item()
        opt.step()
        sj_functional.reset_net(net)
        return value

    if args.data_dir:
        run_from_files(args, step)
        return
    print(f"# {args.model} {args.neuron} T={args.T} b={args.b} input {c}x{h}x{w} {args.precision}, "
          f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}), "
          f"{torch.get_num_threads()} thread(s), {flop_per_sample / 1e9:.2f} GFLOP per sample", flush=True)
    seconds, losses = 0.0, []
    for i in range(args.warmup + args.steps):
        x = torch.randn(args.b, c, h, w)
        y = torch.randint(0, args.classes, (args.b,))
        start = time.perf_counter()
        losses.append(step(x, y))
        if i >= args.warmup:
            seconds += time.perf_counter() - start
    samples = args.b * args.steps
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # kB on Linux
    print("# losses: " + " ".join(f"{v:.4f}" for v in losses))
    print(f"pytorch {args.precision}: samples/s {samples / seconds:.2f}  step {seconds / args.steps:.3f} s  "
          f"GFLOP/s {flop_per_sample * samples / seconds / 1e9:.1f}  peak RSS {rss_mb:.1f} MB", flush=True)


def run_from_files(args, step):
    """The original's epoch loop over the DataLoader, stopped after --max-steps steps."""
    import pytorch_data  # noqa: E402 (bench/, beside this file)
    loader = pytorch_data.loader(args.dataset, args.data_dir, args.b, args.j, args.T)
    steps, start = 0, time.perf_counter()
    while steps < args.max_steps:
        for x, y in loader:
            loss = step(x, y)
            steps += 1
            if steps == args.max_steps:
                break
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(f"pytorch {args.dataset}: {steps} steps in {time.perf_counter() - start:.2f} s (loop), last loss {loss:.4f}, "
          f"peak RSS {rss_mb:.1f} MB (this process)", flush=True)


if __name__ == "__main__":
    main()
