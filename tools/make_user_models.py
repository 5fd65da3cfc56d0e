#!/usr/bin/python3
"""Train the small "user" models the bring-your-own-model tests open, with Debian's python3-torch.

    /usr/bin/python3 tools/make_user_models.py OUT_DIR [--seconds S] [--test-images N]

Each model is trained for a few seconds on Fashion-MNIST (Debian's dataset-fashion-mnist) the
way a user elsewhere would train it, saved as TorchScript WITHOUT a sidecar, and measured by
PyTorch itself on the first N test images with the preprocessing it was trained with.
OUT_DIR/expected.json records, per model file: the PyTorch top-1 (percent), the number of test
images, the input shape and the normalization (mean/std, or a preset name) a user would tell
the tool. Nothing here is committed: the tests call this at test time.

Models:
  plain01_traced.pt    a small CNN trained on plain [0,1] pixels (ToTensor only), traced
  halfnorm_scripted.pt a CNN trained with Normalize(0.5, 0.5), scripted
  resnet18_1ch.pt      torchvision's resnet18 with a 1-channel stem, trained on fmnist-normalized
                       pixels, traced
  examples_net.pt      the pytorch/examples MNIST network (dropout, max_pool2d, log_softmax),
                       trained with Normalize(0.1307, 0.3081) ("mnist" preset), scripted
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixture_models import MnistNet as ExamplesNet  # pytorch/examples' network, one definition

FMNIST = os.environ.get("PTQ_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def idx(name):
    with gzip.open(os.path.join(FMNIST, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def resnet18_1ch():
    m = torchvision.models.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(1, 64, kernel_size=3, stride=2, padding=1, bias=False)  # 28 -> 14, maxpool -> 7
    return m


def train(model, images, labels, mean, std, seconds, seed):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    start = time.time()
    step = 0
    while time.time() - start < seconds:
        i = torch.randint(0, images.shape[0], (64,))
        x = (images[i] - mean) / std
        loss = F.cross_entropy(model(x), labels[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    model.eval()
    return step


def top1(model, images, labels, mean, std):
    correct = 0
    with torch.no_grad():
        for k in range(0, images.shape[0], 250):
            x = (images[k:k + 250] - mean) / std
            correct += int((model(x).argmax(1) == labels[k:k + 250]).sum())
    return 100.0 * correct / images.shape[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--test-images", type=int, default=2000)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    train_x = torch.from_numpy(idx("train-images-idx3-ubyte.gz").astype(np.float32) / 255.0).unsqueeze(1)
    train_y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    n = args.test_images
    test_x = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz")[:n].astype(np.float32) / 255.0).unsqueeze(1)
    test_y = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz")[:n].astype(np.int64))
    example = test_x[:1]

    models = [
        # file, model, how it is saved, mean, std, what the user tells the tool, training time share
        ("plain01_traced.pt", SmallCnn(), "trace", 0.0, 1.0, {"preset": "none"}, 1.0),
        ("halfnorm_scripted.pt", SmallCnn(), "script", 0.5, 0.5, {"mean": [0.5], "std": [0.5]}, 1.0),
        ("resnet18_1ch.pt", resnet18_1ch(), "trace", 0.2860, 0.3530, {"preset": "fmnist"}, 3.0),
        ("examples_net.pt", ExamplesNet(), "script", 0.1307, 0.3081, {"preset": "mnist"}, 1.5),
    ]
    expected = {}
    for seed, (name, model, how, mean, std, told, share) in enumerate(models):
        steps = train(model, train_x, train_y, mean, std, args.seconds * share, seed)
        with torch.no_grad():
            saved = torch.jit.trace(model, example) if how == "trace" else torch.jit.script(model)
        path = os.path.join(args.out, name)
        saved.save(path)
        # What PyTorch measures on the saved file itself, with the training preprocessing.
        loaded = torch.jit.load(path)
        expected[name] = {
            "top1": top1(loaded, test_x, test_y, mean, std),
            "test_images": n,
            "input_shape": [1, 28, 28],
            "told": told,
            "train_steps": steps,
        }
        print(f"{name}: {steps} steps, PyTorch top-1 {expected[name]['top1']:.2f} % on {n} test images")
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
