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
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    c, h, w = args.input
    net = mf.build(args.model, mf.neuron_factory(args.neuron, tau=2.0, surrogate="rectangle"),
                   num_classes=args.classes, c_in=c)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    macs = forward_macs_per_sample(net, args.input)
    flop_per_sample = 2.0 * macs * args.T * 3.0

    bf16 = args.precision == "bf16"
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else None

    def step(x, y):
        opt.zero_grad()
        outs = []
        for _ in range(args.T):
            if autocast:
                with autocast():
                    outs.append(net(x))
            else:
                outs.append(net(x))
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


if __name__ == "__main__":
    main()
