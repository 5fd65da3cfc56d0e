#!/usr/bin/python3
"""Top-1 of a TorchScript model on the Fashion-MNIST test set with real PyTorch, for checking an
exported quantized model (`ptq export --format torchscript`) outside PTQ Studio.

    /usr/bin/python3 tools/eval_torchscript.py MODEL.pt [--count N] [--mean M --std S]

Reads Debian's dataset-fashion-mnist files (or $PTQ_FASHION_MNIST_DIR); normalization from the
model's sidecar JSON when present, else --mean/--std (Fashion-MNIST's by default). Prints one
JSON object: top1 (percent), correct, total.
"""
import argparse
import gzip
import json
import os
import sys

import torch


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def find(folder, stem):
    for name in (stem + "-ubyte.gz", stem + "-ubyte", stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    sys.exit(f"{stem} not found in {folder}: install dataset-fashion-mnist or set PTQ_FASHION_MNIST_DIR.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--mean", type=float, default=0.2860)
    parser.add_argument("--std", type=float, default=0.3530)
    parser.add_argument("--card", help="sidecar JSON with the normalization (default: next to the model)")
    args = parser.parse_args()
    mean, std = args.mean, args.std
    card = args.card or os.path.splitext(args.model)[0] + ".json"
    if os.path.exists(card):
        with open(card) as f:
            norm = json.load(f).get("normalization", {})
        mean, std = norm.get("mean", [mean])[0], norm.get("std", [std])[0]
    folder = os.environ.get("PTQ_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    images = read_idx(find(folder, "t10k-images-idx3"))[:args.count]
    labels = read_idx(find(folder, "t10k-labels-idx1"))[:args.count].long()
    x = (images.float().unsqueeze(1) / 255.0 - mean) / std
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = torch.jit.load(args.model, map_location="cpu").eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            correct += (model(x[i:i + 500]).argmax(1) == labels[i:i + 500]).sum().item()
    print(json.dumps({"top1": 100.0 * correct / len(x), "correct": correct, "total": len(x)}))


if __name__ == "__main__":
    main()
