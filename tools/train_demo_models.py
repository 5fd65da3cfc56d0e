#!/usr/bin/python3
"""Train PTQ Studio's demo models on Fashion-MNIST and save them as TorchScript.

Run with Debian's python3-torch (/usr/bin/python3):

    /usr/bin/python3 tools/train_demo_models.py [--models resnet20,mobilenetv2,vit] [--epochs N]

Writes resources/models/<name>_fmnist.pt (scripted TorchScript, eval mode) and a sidecar
resources/models/<name>_fmnist.json with the input shape, normalization, class names, the
FP32 top-1 on the 10k test set measured on the saved TorchScript file, the seed, epochs,
training time and the command that produced it.

Data comes from Debian's dataset-fashion-mnist package; nothing is downloaded.
"""
import argparse
import gzip
import json
import os
import platform
import struct
import sys
import time

# On a machine shared with other work (builds), OpenMP's spinning threads lose most of their time
# waiting for a core: passive waiting made the ViT's training steps 3-4x faster here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(FMNIST_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(FMNIST_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


# ---------------------------------------------------------------- models

class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.downsample(x))


class ResNet20(nn.Module):
    """CIFAR-style ResNet-20 (He et al. 2016, 3 stages of 3 basic blocks) for 1x28x28 input."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, in_planes = [], 16
        for planes, stride in [(16, 1), (32, 2), (64, 2)]:
            blocks = []
            for i in range(3):
                blocks.append(BasicBlock(in_planes, planes, stride if i == 0 else 1))
                in_planes = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand):
        super().__init__()
        hidden = inp * expand
        self.use_residual = stride == 1 and inp == oup
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(inp, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                   nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
                   nn.Conv2d(hidden, oup, 1, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_residual:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 (Sandler et al. 2018) with strides and widths sized for 1x28x28 input."""

    # expansion t, output channels c, repeats n, first stride s
    # 28x28 -> 14x14 -> 7x7; the 4x4 stage of a 224x224 MobileNetV2 has no room here.
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 3, 1), (6, 96, 2, 1)]

    def __init__(self, num_classes=10, last_channels=320):
        super().__init__()
        layers = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(inplace=True)]
        inp = 16
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(inp, c, s if i == 0 else 1, t))
                inp = c
        layers += [nn.Conv2d(inp, last_channels, 1, bias=False), nn.BatchNorm2d(last_channels),
                   nn.ReLU6(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last_channels, num_classes))

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


class ViT(nn.Module):
    """A small Vision Transformer (Dosovitskiy et al. 2021) for 1x28x28 input, in plain torch.nn:
    patch embedding as a strided convolution, a learned class token and positional embedding,
    pre-norm encoder layers (nn.TransformerEncoderLayer, GELU), a final LayerNorm and a linear
    head on the class token."""

    def __init__(self, num_classes=10, patch=4, dim=96, depth=6, heads=4, mlp_ratio=2, dropout=0.0):
        super().__init__()
        tokens = (28 // patch) ** 2
        self.patch_embed = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens + 1, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        layer = nn.TransformerEncoderLayer(d_model=dim, nhead=heads, dim_feedforward=mlp_ratio * dim,
                                           dropout=dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # batch x tokens x dim
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        x = self.norm(self.encoder(x))
        return self.head(x[:, 0])


# optimizer "sgd": SGD with Nesterov momentum 0.9; "adamw": AdamW (no weight decay on biases, norms,
# the class token and the positional embedding), gradients clipped to norm 1. crop: the random
# 2-pixel-padded crop besides the flip. The ViT trains without it: over 3 epochs (7x7 patches,
# D 128) it reached 83.8 % with the crop and 87.2 % with the flip alone.
MODELS = {
    "resnet20": (ResNet20, dict(opt="sgd", lr=0.1, wd=5e-4)),
    "mobilenetv2": (MobileNetV2, dict(opt="sgd", lr=0.1, wd=4e-5)),
    "vit": (ViT, dict(opt="adamw", lr=1e-3, wd=0.05, label_smoothing=0.1, channels_last=False, crop=False,
                      kwargs=dict(patch=7, dim=128, depth=6, heads=4, mlp_ratio=2, dropout=0.0))),
}

# ---------------------------------------------------------------- training


def augment(x, crop=True):
    """Random crop (pad 2) and horizontal flip, vectorised over the batch."""
    n = x.shape[0]
    if not crop:
        out = x.clone()
        flip = torch.rand(n) < 0.5
        out[flip] = out[flip].flip(3)
        return out
    padded = F.pad(x, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (n,))
    dy = torch.randint(0, 5, (n,))
    rows = (dy.view(n, 1) + torch.arange(28).view(1, 28))  # n x 28
    cols = (dx.view(n, 1) + torch.arange(28).view(1, 28))
    idx = torch.arange(n).view(n, 1, 1)
    out = padded[idx, 0, rows.view(n, 28, 1), cols.view(n, 1, 28)].unsqueeze(1)
    flip = torch.rand(n) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def evaluate(model, x, y, batch=1000):
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return 100.0 * correct / x.shape[0]


def train(name, epochs, batch, seed, out_dir, command):
    torch.manual_seed(seed)
    np.random.seed(seed)
    x_train, y_train = load_split("train")
    x_test, y_test = load_split("test")
    mean, std = x_train.mean().item(), x_train.std().item()
    x_train = (x_train - mean) / std
    x_test = (x_test - mean) / std

    cls, hp = MODELS[name]
    # channels_last sends convolutions (depthwise ones above all) to oneDNN: 3-4x faster here.
    cl = torch.channels_last if hp.get("channels_last", True) else torch.contiguous_format
    model = cls(**hp.get("kwargs", {})).to(memory_format=cl)
    smoothing = hp.get("label_smoothing", 0.0)
    crop = hp.get("crop", True)
    clip = None
    if hp["opt"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=hp["lr"], momentum=0.9, nesterov=True,
                              weight_decay=hp["wd"])
        opt_text = f"SGD nesterov momentum 0.9, OneCycle max lr {hp['lr']}, weight decay {hp['wd']}"
    else:
        decay, no_decay = [], []
        for pname, p in model.named_parameters():
            (decay if p.ndim >= 2 and pname not in ("cls_token", "pos_embed") else no_decay).append(p)
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp["wd"]},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=hp["lr"], foreach=True)
        clip = 1.0
        opt_text = (f"AdamW, OneCycle max lr {hp['lr']}, weight decay {hp['wd']} (not on biases, norms, "
                    f"class token, positional embedding), gradient norm clipped to {clip}")
    if smoothing:
        opt_text += f", label smoothing {smoothing}"
    if "kwargs" in hp:
        opt_text += "; " + ", ".join(f"{k} {v}" for k, v in hp["kwargs"].items())
    steps_per_epoch = (x_train.shape[0] + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=hp["lr"], epochs=epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.25)
    start = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(x_train.shape[0])
        total_loss = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * batch:(i + 1) * batch]
            xb = augment(x_train[idx], crop).contiguous(memory_format=cl)
            loss = F.cross_entropy(model(xb), y_train[idx], label_smoothing=smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            sched.step()
            total_loss += loss.item()
        model.eval()
        acc = evaluate(model, x_test, y_test)
        print(f"{name} epoch {epoch + 1}/{epochs} loss {total_loss / steps_per_epoch:.4f} "
              f"test top-1 {acc:.2f}% ({time.time() - start:.0f} s)", flush=True)
    train_seconds = time.time() - start

    model.eval()
    model = model.to(memory_format=torch.contiguous_format)
    scripted = torch.jit.script(model)
    os.makedirs(out_dir, exist_ok=True)
    pt_path = os.path.join(out_dir, f"{name}_fmnist.pt")
    scripted.save(pt_path)
    # The recorded accuracy is that of the saved file, reloaded, as users will run it.
    reloaded = torch.jit.load(pt_path)
    reloaded.eval()
    top1 = evaluate(reloaded, x_test, y_test)
    sidecar = {
        "name": name,
        "file": os.path.basename(pt_path),
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist)",
        "input_shape": [1, 28, 28],
        "normalization": {"mean": [round(mean, 6)], "std": [round(std, 6)],
                          "note": "pixels scaled to [0,1], then (x - mean) / std"},
        "class_names": CLASS_NAMES,
        "fp32_top1_test": round(top1, 2),
        "test_images": int(x_test.shape[0]),
        "parameters": sum(p.numel() for p in model.parameters()),
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch,
        "optimizer": opt_text,
        "augmentation": "random crop with 2-pixel padding, horizontal flip" if crop else "horizontal flip",
        "training_seconds": round(train_seconds, 1),
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "command": command,
    }
    with open(os.path.join(out_dir, f"{name}_fmnist.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")
    print(f"{name}: saved {pt_path}, test top-1 {top1:.2f}%", flush=True)
    return top1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet20,mobilenetv2")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "..", "resources", "models"))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    # Debian's torch starts with one thread; use the machine.
    torch.set_num_threads(args.threads)
    command = "/usr/bin/python3 tools/train_demo_models.py " + " ".join(sys.argv[1:])
    for name in args.models.split(","):
        if name not in MODELS:
            sys.exit(f"unknown model '{name}'; choose from {', '.join(MODELS)}")
        train(name, args.epochs, args.batch, args.seed, os.path.normpath(args.out), command.strip())


if __name__ == "__main__":
    main()
