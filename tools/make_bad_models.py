#!/usr/bin/python3
"""Write the bad model files of the robustness suite (tests/robustness/files/), with real PyTorch.

    /usr/bin/python3 tools/make_bad_models.py [OUT_DIR]

These are the bad models only PyTorch can make; the suite makes the rest (empty, random bytes,
truncated copies) at test time from the demo models. The outputs are small and committed, so the
suite needs no PyTorch for Python; rerun this after changing it and commit what it writes.
Every model takes one 1x8x8 input (the sidecar JSON says so), except where that is the fault.
good_tiny.pt is a valid model for Fashion-MNIST's 1x28x28 images, small enough for the fuzz
targets (fuzz/) to import once and for a valid ptq-config of it to be a small seed file.
"""
import io
import json
import os
import sys
import zipfile

import torch
import torch.nn as nn

SEED = 1234


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x, y):
        return self.fc(x + y)


class UnknownOp(nn.Module):
    """torch.cumsum has no IR op: the importer must name it rather than run it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return torch.cumsum(self.conv(x), dim=2)


def small_cnn(out_channels=2):
    return nn.Sequential(nn.Conv2d(1, out_channels, 3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(out_channels * 36, 3))


def poisoned(value):
    """A small CNN whose linear weight holds one @p value (NaN or Inf) at [1, 5]."""
    model = small_cnn()
    with torch.no_grad():
        model[3].weight[1, 5] = value
    return model


class ZeroSize(nn.Module):
    """A convolution with no output channels between two ordinary layers."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 0, 3)
        self.fc = nn.Linear(0, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


def good_tiny():
    """Conv + BatchNorm + ReLU + Linear: 10 classes from 1x28x28, with BN statistics to fold."""
    model = nn.Sequential(nn.Conv2d(1, 4, 5, stride=3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 8 * 8, 10))
    with torch.no_grad():
        model[1].running_mean.uniform_(-0.1, 0.1)
        model[1].running_var.uniform_(0.5, 1.5)
    return model


def save_script(model, path):
    torch.jit.script(model.eval()).save(path)


def zip_without_model(path):
    """A well-formed zip archive (what a .pt is) holding a README and no TorchScript code."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/README.txt", "Weights are in another file.\n")
        z.writestr("archive/version", "3\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "robustness", "files")
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    made = {
        "state_dict.pt": lambda p: torch.save(small_cnn().state_dict(), p),
        "two_inputs.pt": lambda p: save_script(TwoInputs(), p),
        "unknown_op.pt": lambda p: save_script(UnknownOp(), p),
        "nan_weight.pt": lambda p: save_script(poisoned(float("nan")), p),
        "inf_weight.pt": lambda p: save_script(poisoned(float("inf")), p),
        "zero_size_layer.pt": lambda p: save_script(ZeroSize(), p),
        "zip_without_model.pt": zip_without_model,
        "good_tiny.pt": lambda p: save_script(good_tiny(), p),
    }
    for name, make in made.items():
        path = os.path.join(out_dir, name)
        make(path)
        shape = {"two_inputs.pt": [1, 1, 4], "good_tiny.pt": [1, 28, 28]}.get(name, [1, 8, 8])
        with open(os.path.splitext(path)[0] + ".json", "w") as f:
            json.dump({"input_shape": shape}, f)
            f.write("\n")
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    sys.exit(main())
