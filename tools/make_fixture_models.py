#!/usr/bin/python3
"""Write the TorchScript fixtures the tests import, with Debian's python3-torch/torchvision.

    /usr/bin/python3 tools/make_fixture_models.py OUT_DIR [--set small|torchvision|bad|all]

Nothing here is committed: tests call this at test time and write into the build tree.
Weights are random with a fixed seed; BatchNorm statistics are randomised too so that BN
folding and name resolution are exercised on distinct tensors.

Sets:
  small        tiny models covering every op the importer maps (28x28 input)
  torchvision  resnet18, resnet50, mobilenet_v2, mobilenet_v3_small, efficientnet_b0, vgg11_bn,
               squeezenet1_1, shufflenet_v2_x0_5, densenet121, each scripted and traced
  bad          a state_dict, a two-input forward, an unknown op, an empty file, random bytes,
               truncated copies
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 1234


def randomise_bn(model):
    g = torch.Generator().manual_seed(SEED)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return model


def save(model, example, out_dir, name, shape):
    model.eval()
    written = []
    scripted = torch.jit.script(model)
    path = os.path.join(out_dir, f"{name}_scripted.pt")
    scripted.save(path)
    written.append(path)
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    path = os.path.join(out_dir, f"{name}_traced.pt")
    traced.save(path)
    written.append(path)
    for p in written:
        with open(os.path.splitext(p)[0] + ".json", "w") as f:
            json.dump({"name": name, "input_shape": list(shape)}, f)
    return written


# ---------------------------------------------------------------- small models

class AllOps(nn.Module):
    """Touches every op the importer maps, at 1x28x28."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, bias=False)
        self.pw = nn.Conv2d(8, 16, 1, stride=2)
        self.ln = nn.LayerNorm([16, 14, 14])
        self.fc1 = nn.Linear(16 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10, bias=False)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        y = F.relu6(self.dw(x))
        x = x + y * 0.5 - 0.1
        x = F.hardswish(x) / 2.0
        x = torch.cat([F.hardsigmoid(x), F.silu(x)], 1)
        a, b = torch.chunk(x, 2, dim=1)
        x = torch.sigmoid(a) * torch.tanh(b)
        x = self.pw(x)
        x = F.gelu(self.ln(x))
        p, q = torch.split(x, [8, 8], dim=1)
        x = torch.cat([F.max_pool2d(p, 2), F.avg_pool2d(q, 2)], 1)
        x = x.permute(0, 1, 3, 2).contiguous().transpose(2, 3)
        s = F.adaptive_avg_pool2d(x, 1) + F.adaptive_max_pool2d(x, 1)
        x = x * torch.sigmoid(s)
        x = x.reshape(x.size(0), -1)
        x = self.drop(F.relu(self.fc1(x)))
        x = self.fc2(x)
        return F.softmax(x - x.mean(dim=1, keepdim=True), dim=1)


def make_small(out_dir):
    torch.manual_seed(SEED)
    model = randomise_bn(AllOps())
    return save(model, torch.randn(2, 1, 28, 28), out_dir, "allops", (1, 28, 28))


# ---------------------------------------------------------------- torchvision

TORCHVISION = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "vgg11_bn",
               "squeezenet1_1", "shufflenet_v2_x0_5", "densenet121"]


def make_torchvision(out_dir, names, size):
    import torchvision
    written = []
    for name in names:
        torch.manual_seed(SEED)
        model = randomise_bn(getattr(torchvision.models, name)(weights=None))
        written += save(model, torch.randn(1, 3, size, size), out_dir, name, (3, size, size))
    return written


# ---------------------------------------------------------------- bad inputs

class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x, y):
        return self.fc(x + y)


class UnknownOp(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)

    def forward(self, x):
        x = torch.cumsum(self.conv(x), dim=2)
        return self.up(torch.erf(x))


def make_bad(out_dir):
    written = []
    torch.manual_seed(SEED)
    good = torch.jit.script(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()))
    good_path = os.path.join(out_dir, "good_small.pt")
    good.save(good_path)
    paths = {
        "state_dict": os.path.join(out_dir, "bad_state_dict.pt"),
        "two_inputs": os.path.join(out_dir, "bad_two_inputs.pt"),
        "unknown_op": os.path.join(out_dir, "bad_unknown_op.pt"),
        "empty": os.path.join(out_dir, "bad_empty.pt"),
        "random": os.path.join(out_dir, "bad_random.pt"),
    }
    torch.save(nn.Linear(4, 2).state_dict(), paths["state_dict"])
    torch.jit.script(TwoInputs()).save(paths["two_inputs"])
    torch.jit.script(UnknownOp()).save(paths["unknown_op"])
    open(paths["empty"], "wb").close()
    with open(paths["random"], "wb") as f:
        f.write(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(SEED),
                              dtype=torch.uint8).numpy().tobytes())
    data = open(good_path, "rb").read()
    for frac in (0.1, 0.5, 0.9):
        p = os.path.join(out_dir, f"bad_truncated_{int(frac * 100)}.pt")
        with open(p, "wb") as f:
            f.write(data[:int(len(data) * frac)])
        written.append(p)
    for p in list(paths.values()) + [good_path]:
        with open(os.path.splitext(p)[0] + ".json", "w") as f:
            json.dump({"input_shape": [1, 8, 8] if "two" not in p else [1, 1, 4]}, f)
    return written + list(paths.values()) + [good_path]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--set", default="all", choices=["small", "torchvision", "bad", "all"])
    parser.add_argument("--models", default=",".join(TORCHVISION))
    parser.add_argument("--size", type=int, default=64, help="input height/width for torchvision models")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    if args.set in ("small", "all"):
        written += make_small(args.out_dir)
    if args.set in ("bad", "all"):
        written += make_bad(args.out_dir)
    if args.set in ("torchvision", "all"):
        written += make_torchvision(args.out_dir, args.models.split(","), args.size)
    for p in written:
        print(p)


if __name__ == "__main__":
    sys.exit(main())
