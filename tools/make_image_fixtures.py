#!/usr/bin/python3
"""Image-folder fixtures for the image-source tests, made with Pillow and torchvision at test time.

    /usr/bin/python3 tools/make_image_fixtures.py OUT_DIR [--count N] [--size S] [--crop-ratio R]

Writes OUT_DIR/images/<class>/NNNN.{jpg,png}: N images in four classes (a disc, a bar, stripes,
a ring on smooth gradients with noise), of mixed sizes and aspect ratios (34..360 pixels a
side, 1:3 to 3:1), as grey and RGB JPEG (quality 90) and grey, RGB, RGBA and palette PNG.
OUT_DIR/images.list names the same files (relative paths) with their labels.

Then torchvision does what a user's evaluation script does: datasets.ImageFolder with
Resize(round(S / R)) + CenterCrop(S) + ToTensor + Normalize(ImageNet mean/std), and, for a
grey model, Grayscale(1) first and Normalize(0.5, 0.25). The tensors go to
OUT_DIR/reference_rgb.npy and reference_grey.npy (N x C x S x S float32, ImageFolder's order).

A small CNN (3 x S x S) is trained for a few hundred steps on those tensors (an honest classifier, not
random weights), traced to OUT_DIR/model.pt, and run by PyTorch on torchvision's tensors;
OUT_DIR/reference.json records its predictions, top-1, the labels and the settings used.
Nothing here is committed.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision import datasets, transforms

CLASSES = ["bar", "disc", "ring", "stripes"]
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def picture(rng, label, width, height):
    """A photo-like picture: a smooth two-colour gradient, the class's shape, noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    angle = rng.uniform(0, np.pi)
    t = (np.cos(angle) * u + np.sin(angle) * v)
    t = (t - t.min()) / max(t.max() - t.min(), 1e-6)
    img = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    colour = 255.0 - img[int(height / 2), int(width / 2)]  # contrasting with the background
    cx, cy = rng.uniform(0.35, 0.65) * width, rng.uniform(0.35, 0.65) * height
    r = rng.uniform(0.15, 0.3) * min(width, height)
    d = np.hypot(x - cx, y - cy)
    if label == 0:    # bar
        mask = (np.abs(x - cx) < r * 0.35) & (np.abs(y - cy) < r * 1.2)
    elif label == 1:  # disc
        mask = d < r
    elif label == 2:  # ring
        mask = (d < r) & (d > r * 0.6)
    else:             # stripes
        mask = (np.sin(y / max(height, 1) * rng.uniform(18, 30)) > 0.3)
    img[mask] = 0.2 * img[mask] + 0.8 * colour
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def save(rng, pixels, path_stem, kind):
    """Saves as one of the kinds; returns the file name."""
    rgb = Image.fromarray(pixels, "RGB")
    if kind == "jpeg_rgb":
        rgb.save(path_stem + ".jpg", quality=90)
        return path_stem + ".jpg"
    if kind == "jpeg_grey":
        rgb.convert("L").save(path_stem + ".jpg", quality=90)
        return path_stem + ".jpg"
    if kind == "png_rgb":
        rgb.save(path_stem + ".png")
    elif kind == "png_grey":
        rgb.convert("L").save(path_stem + ".png")
    elif kind == "png_rgba":
        alpha = rng.integers(0, 256, pixels.shape[:2], dtype=np.uint8)
        Image.fromarray(np.dstack([pixels, alpha]), "RGBA").save(path_stem + ".png")
    elif kind == "png_palette":
        rgb.convert("P", palette=Image.ADAPTIVE, colors=200).save(path_stem + ".png")
    return path_stem + ".png"


class Net(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.c3 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        x = F.relu(self.c3(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--count", type=int, default=600)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--crop-ratio", type=float, default=0.875)
    p.add_argument("--steps", type=int, default=600)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = np.random.default_rng(1234)
    root = os.path.join(a.out, "images")
    kinds = ["jpeg_rgb"] * 8 + ["jpeg_grey"] * 3 + ["png_rgb"] * 3 + ["png_grey"] * 2 + ["png_rgba", "png_palette"] * 2
    lines = []
    for i in range(a.count):
        label = i % len(CLASSES)
        os.makedirs(os.path.join(root, CLASSES[label]), exist_ok=True)
        side = int(rng.integers(34, 361))
        aspect = float(np.exp(rng.uniform(np.log(1 / 3), np.log(3))))
        width, height = (side, max(2, int(side / aspect))) if aspect >= 1 else (max(2, int(side * aspect)), side)
        kind = kinds[int(rng.integers(0, len(kinds)))]
        name = save(rng, picture(rng, label, width, height), os.path.join(root, CLASSES[label], "%04d" % i), kind)
        lines.append("%s %d" % (os.path.relpath(name, a.out), label))
    with open(os.path.join(a.out, "images.list"), "w") as f:
        f.write("# path label, relative to this file\n" + "\n".join(lines) + "\n")

    resize = int(round(a.size / a.crop_ratio))
    rgb_tf = transforms.Compose([transforms.Resize(resize), transforms.CenterCrop(a.size), transforms.ToTensor(),
                                 transforms.Normalize(MEAN, STD)])
    grey_tf = transforms.Compose([transforms.Grayscale(1), transforms.Resize(resize), transforms.CenterCrop(a.size),
                                  transforms.ToTensor(), transforms.Normalize([0.5], [0.25])])
    rgb_set = datasets.ImageFolder(root, transform=rgb_tf)
    grey_set = datasets.ImageFolder(root, transform=grey_tf)
    x = torch.stack([rgb_set[i][0] for i in range(len(rgb_set))])
    y = torch.tensor([rgb_set[i][1] for i in range(len(rgb_set))])
    g = torch.stack([grey_set[i][0] for i in range(len(grey_set))])
    np.save(os.path.join(a.out, "reference_rgb.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(a.out, "reference_grey.npy"), g.numpy().astype(np.float32))

    # A few hundred steps (seconds) of training on the first two thirds; then run on all.
    net = Net(len(CLASSES))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    train = int(len(x) * 2 / 3)
    start = time.time()
    for steps in range(1, a.steps + 1):
        idx = torch.randint(0, train, (64,))
        loss = F.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
    net.eval()
    with torch.no_grad():
        pred = net(x).argmax(1)
    traced = torch.jit.trace(net, x[:2])
    traced.save(os.path.join(a.out, "model.pt"))
    correct = int((pred == y).sum())
    with open(os.path.join(a.out, "reference.json"), "w") as f:
        json.dump({"samples": len(y), "correct": correct, "top1": 100.0 * correct / len(y), "size": a.size,
                   "crop_ratio": a.crop_ratio, "resize": resize, "mean": MEAN, "std": STD, "classes": rgb_set.classes,
                   "training_steps": steps, "labels": y.tolist(), "predictions": pred.tolist(),
                   "files": [os.path.relpath(s[0], a.out) for s in rgb_set.samples]}, f)
    print("images: %d, PyTorch top-1 on torchvision's tensors: %.2f %% (%d steps, %.1f s)"
          % (len(y), 100.0 * correct / len(y), steps, time.time() - start))


if __name__ == "__main__":
    main()
