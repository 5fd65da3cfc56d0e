#!/usr/bin/env python3
"""A torchvision model (resnet50, mobilenet_v2, ...) for benchmarks at 224x224 whose outputs
depend on its input.

No trained ImageNet weights can be downloaded on the build machines, and a model with
torchvision's random initialisation answers every image alike (a ResNet-50's sensitivity table
is all zeros). This script keeps the random weights but sets every BatchNorm's statistics from the
images of a folder (a cumulative average over them in training mode), and gives the BatchNorm
affine parameters a spread and the logits a classifier's scale, so the activations of every layer are normalised and the logits
differ from image to image: a model whose quantization sensitivity is real, for timing and for
comparing the estimated with the measured sensitivity table. Not a classifier.

    /usr/bin/python3 tools/make_calibrated_torchvision.py NAME IMAGE_DIR OUT.pt
"""
import os
import sys

import torch
import torchvision
from PIL import Image

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


def load(folder):
    images = []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith((".png", ".jpg", ".jpeg", ".bmp")):
            continue
        img = Image.open(os.path.join(folder, name)).convert("RGB").resize((224, 224), Image.BILINEAR)
        x = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).float().view(224, 224, 3)
        images.append((x.permute(2, 0, 1) / 255.0 - MEAN) / STD)
    if not images:
        sys.exit(f"{folder} holds no .png/.jpg/.bmp images")
    return torch.stack(images)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    torch.manual_seed(0)
    name, folder, out = sys.argv[1:]
    x = load(folder)
    model = getattr(torchvision.models, name)(weights=None)
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # cumulative average
            m.reset_running_stats()
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)
    model.train()
    with torch.no_grad():
        for batch in x.split(16):
            model(batch)
    model.eval()
    # Logits with the spread of a trained classifier's (std 3) instead of init's near-uniform output.
    head = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        spread = model(x[:32]).std().item()
        head.weight.mul_(3.0 / spread)
        head.bias.mul_(3.0 / spread)
    traced = torch.jit.trace(model, x[:1])
    traced.save(out)
    with torch.no_grad():
        p = model(x).softmax(1)
    print(f"{out}: {name}, BatchNorm statistics of {len(x)} images; top-1 classes seen {p.argmax(1).unique().numel()}, "
          f"mean max probability {p.max(1).values.mean():.3f}")


if __name__ == "__main__":
    main()
