"""The original recipe's training data pipelines in PyTorch, for bench/pytorch_baseline.py --data-dir.

torchvision 0.28 of the oracle venv does not load against torch 2.13+cpu (its _C needs CUDA
libraries: "operator torchvision::nms does not exist"), so its pieces used here are repeated with
PIL, NumPy and torch, step for step as torchvision does them:

cifar10: torchvision's CIFAR10 (train=True): the python pickles of <data_dir>/cifar-10-batches-py
    read with pickle.load(encoding="latin1"), "data" stacked to [N, 32, 32, 3], a PIL image per
    sample; then RandomCrop(32, padding 4) → Cutout (torchtoolbox's defaults) → RandomHorizontalFlip
    → ToTensor → Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)), clif-mpi's cifar10
    default (docs/data.md).
DVSCIFAR10: spikingjelly's CIFAR10DVS frames (frames_number T, split_by 'number'): each .aedat of
    <data_dir>/extract/<class>/ read by the original CLIF code's reader (tools/make_event_fixtures.py's
    clif_read_bin, on spikingjelly's load_events) and integrated by
    its integrate_events_by_fixed_frames_number into [T, 2, 128, 128] counts, saved once (`prepare`)
    as <data_dir>/frames_number_T_split_by_number/<class>/<name>.npz as spikingjelly saves them and
    read back per sample with its load_npz_frames; per class the first 90 % in DatasetFolder's
    (sorted) order train, as split_to_train_test_set(0.9, …) without random_split. Per sample:
    every frame resized to 48×48 (antialiased bilinear: PIL BILINEAR's arithmetic), one horizontal
    flip (p 0.5) and one rotation by randint(-15, 15) degrees (PIL Image.rotate: nearest, zero
    fill; 48×48 kept as clif-mpi keeps it) for all frames.

Both through DataLoader(batch_size b, shuffle True, num_workers j) — the original's loader.
"""

import math
import os
import pickle
import random
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
DVS_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def cutout(image, p=0.5, scale=(0.02, 0.4), ratio=(0.4, 1 / 0.4), value=(0, 255)):
    """torchtoolbox.transform.Cutout() on a PIL image: with probability p a box of area
    U(scale)·H·W and aspect U(ratio) inside the image, filled with one random value."""
    if random.uniform(0, 1) > p:
        return image
    pixels = np.array(image)
    h, w = pixels.shape[:2]
    while True:
        area = random.uniform(*scale) * h * w
        aspect = random.uniform(*ratio)
        box_w, box_h = int(math.sqrt(area / aspect)), int(math.sqrt(area * aspect))
        left, top = random.randint(0, w), random.randint(0, h)
        if left + box_w <= w and top + box_h <= h:
            break
    pixels[top:top + box_h, left:left + box_w] = random.randint(*value)
    return Image.fromarray(pixels)


class CIFAR10Train(torch.utils.data.Dataset):
    """torchvision.datasets.CIFAR10(root, train=True) with the original's train transform."""

    def __init__(self, root):
        folder = os.path.join(root, "cifar-10-batches-py")
        data, self.targets = [], []
        for i in range(1, 6):
            path = os.path.join(folder, f"data_batch_{i}")
            if not os.path.exists(path):
                sys.exit(f"pytorch_data: {path} is missing (write the files with bench/make_bench_data.py)")
            with open(path, "rb") as fh:
                entry = pickle.load(fh, encoding="latin1")
            data.append(entry["data"])
            self.targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        self.mean = torch.tensor(CIFAR10_MEAN).view(3, 1, 1)
        self.std = torch.tensor(CIFAR10_STD).view(3, 1, 1)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image = Image.fromarray(self.data[index])
        # RandomCrop(32, padding=4): zero padding, a random 32×32 window.
        padded = Image.new(image.mode, (40, 40), 0)
        padded.paste(image, (4, 4))
        top, left = random.randint(0, 8), random.randint(0, 8)
        image = padded.crop((left, top, left + 32, top + 32))
        image = cutout(image)
        if random.random() < 0.5:
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        # ToTensor, Normalize.
        x = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).float().div(255)
        return (x - self.mean) / self.std, self.targets[index]


def frames_folder(root, frames):
    return os.path.join(root, f"frames_number_{frames}_split_by_number")


class DVSCIFAR10Train(torch.utils.data.Dataset):
    """The training 90 % of spikingjelly's CIFAR10DVS frames with the train transform above."""

    def __init__(self, root, frames):
        folder = frames_folder(root, frames)
        if not os.path.isdir(folder):
            sys.exit(f"pytorch_data: {folder} is missing; run bench/pytorch_baseline.py --prepare first")
        self.samples = []
        for label, name in enumerate(DVS_CLASSES):
            files = sorted(f for f in os.listdir(os.path.join(folder, name)) if f.endswith(".npz"))
            cut = math.ceil(len(files) * 0.9)
            self.samples += [(os.path.join(folder, name, f), label) for f in files[:cut]]

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, label = self.samples[index]
        frames = torch.from_numpy(np.load(path, allow_pickle=True)["frames"]).float()  # load_npz_frames
        x = F.interpolate(frames, size=(48, 48), mode="bilinear", align_corners=False, antialias=True)
        flip = random.random() < 0.5
        angle = int(np.random.randint(-15, 15))
        planes = []
        for plane in x.reshape(-1, 48, 48).numpy():
            image = Image.fromarray(plane, mode="F")
            if flip:
                image = image.transpose(Image.FLIP_LEFT_RIGHT)
            planes.append(np.asarray(image.rotate(angle), dtype=np.float32))
        return torch.from_numpy(np.stack(planes)).view_as(x), label


def prepare(dataset, root, frames):
    """The one-time work of the original's first run: CIFAR10-DVS recordings → frame files."""
    if dataset != "DVSCIFAR10":
        return
    folder = frames_folder(root, frames)
    if os.path.isdir(folder):
        return
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tools"))
    # spikingjelly behind the torchvision stand-in; the original CLIF code's CIFAR10DVS reader.
    from make_event_fixtures import clif_read_bin, sjds
    extract = os.path.join(root, "extract")
    for name in DVS_CLASSES:
        source = os.path.join(extract, name)
        if not os.path.isdir(source):
            sys.exit(f"pytorch_data: {source} is missing (write the files with bench/make_bench_data.py)")
        os.makedirs(os.path.join(folder + ".part", name), exist_ok=True)
        for file in sorted(f for f in os.listdir(source) if f.endswith(".aedat")):
            events = clif_read_bin(os.path.join(source, file))
            counts = sjds.integrate_events_by_fixed_frames_number(events, "number", frames, 128, 128)
            np.savez_compressed(os.path.join(folder + ".part", name, file[:-len(".aedat")] + ".npz"), frames=counts)
    os.replace(folder + ".part", folder)


def loader(dataset, root, batch_size, workers, frames):
    """The original's training DataLoader over `dataset` in `root`."""
    data = CIFAR10Train(root) if dataset == "cifar10" else DVSCIFAR10Train(root, frames)
    return torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True, num_workers=workers)
