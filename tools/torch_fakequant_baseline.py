#!/usr/bin/python3
"""PyTorch's own min-max fake-quantization of the demo models: the peer baseline for the
low-bit table of docs/RESULTS.md.

What it computes, per model and per bit setting (wXaY): top-1 on the Fashion-MNIST test set of
the model fake-quantized with PyTorch's quantization primitives, next to its FP32 top-1:

- weights of every Conv2d and Linear layer: torch.fake_quantize_per_channel_affine (axis 0) with
  the scale and zero point of torch.ao.quantization.PerChannelMinMaxObserver, qscheme
  per_channel_symmetric, signed grid [-2^(X-1), 2^(X-1)-1]; --granularity per-tensor uses
  MinMaxObserver with per_tensor_symmetric and torch.fake_quantize_per_tensor_affine instead.
  PyTorch's symmetric observer sets scale = max|w| / ((quant_max - quant_min) / 2), that is
  max|w| / (2^(X-1) - 0.5), so the largest weight of a channel is clipped to the top code;
- the input of every Conv2d and Linear layer: torch.fake_quantize_per_tensor_affine with the
  range of a MinMaxObserver (per_tensor_affine, unsigned grid [0, 2^Y-1]) fed the calibration
  images through the FP32 model (as torch.ao.quantization's prepare/calibrate does);
- the demo ViT also has both inputs of each attention matmul quantized at Y bits (the softmax
  output with a FixedQParamsObserver on [0, 1], scale 1/(2^Y-1)), its in_proj as a Linear layer;
- the first and the last quantized layer in execution order keep 8-bit weights and 8-bit
  input activations;
- BatchNorm is folded into the convolution feeding it (found in a torch.fx trace of the eager
  model) before the weights are quantized.

TorchScript modules take no Python hooks, so each TorchScript file is rebuilt as the eager
module of tools/train_demo_models.py that produced it (its state_dict loaded strictly), checked
against the TorchScript file's own top-1 on the evaluation images (they must agree to 0.01 pt),
and quantized through forward pre-hooks.

Run with Debian's python3-torch (the python3 on PATH may have no torch):

    /usr/bin/python3 tools/torch_fakequant_baseline.py [--models resnet20,mobilenetv2]
        [--bits w4a4,w3a3,w2a4,w3a8] [--calib 1000] [--eval-count K]
        [--granularity per-channel|per-tensor] [--json FILE] [--threads 2]

--models takes resnet20, mobilenetv2, vit (resources/models/<name>_fmnist.pt) or paths to such
TorchScript files; each needs its sidecar JSON (same name, .json) for the normalization.
Calibration images are the first --calib of the training set, evaluation the whole test set
(or its first --eval-count). Data: Debian's dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist, or $PTQ_FASHION_MNIST_DIR), nothing is downloaded.
"""
import argparse
import copy
import gzip
import importlib.util
import json
import math
import os
import re
import struct
import sys
import time
import types
import warnings

# On a machine shared with other work, OpenMP's spinning threads lose their time waiting for a core.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.ao.quantization import (FixedQParamsObserver, MinMaxObserver,  # noqa: E402
                                   PerChannelMinMaxObserver)

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(TOOLS_DIR)
MODELS_DIR = os.path.join(REPO_DIR, "resources", "models")
KNOWN_MODELS = ("resnet20", "mobilenetv2", "vit")
DEFAULT_FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
EVAL_BATCH = 500
CALIB_BATCH = 250


class Refusal(Exception):
    """A problem with the user's input: printed as one sentence, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Refusal(f"bad command line: {message} (see --help)")


# ---------------------------------------------------------------- data

def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Refusal(f"cannot read the IDX file {path}: {e}")
    if len(data) < 4:
        raise Refusal(f"{path} is not an IDX file (too short)")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08 or ndim < 1 or len(data) < 4 + 4 * ndim:
        raise Refusal(f"{path} is not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    if len(data) - 4 - 4 * ndim != int(np.prod(dims)):
        raise Refusal(f"{path} is truncated: its header announces {'x'.join(map(str, dims))} bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fmnist_file(folder, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise Refusal(f"Fashion-MNIST's {stem}.gz is not in {folder}; install the Debian package "
                  f"dataset-fashion-mnist or point PTQ_FASHION_MNIST_DIR at a folder with the four IDX files")


def load_split(split, count):
    """The first @p count images (uint8, N x 1 x 28 x 28) and labels of a split."""
    folder = os.environ.get("PTQ_FASHION_MNIST_DIR") or DEFAULT_FMNIST_DIR
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(fmnist_file(folder, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(fmnist_file(folder, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise Refusal(f"Fashion-MNIST's {split} files in {folder} do not hold matching images and labels")
    if count > images.shape[0]:
        raise Refusal(f"asked for {count} {split} images but Fashion-MNIST {split} holds only {images.shape[0]}")
    x = torch.from_numpy(images[:count].copy()).unsqueeze(1)
    y = torch.from_numpy(labels[:count].astype(np.int64))
    return x, y


def normalize(x_uint8, mean, std):
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (x_uint8.float() / 255.0 - m) / s


# ---------------------------------------------------------------- models

def load_demo_module():
    path = os.path.join(TOOLS_DIR, "train_demo_models.py")
    if not os.path.exists(path):
        raise Refusal(f"{path} (the eager model classes) is missing")
    spec = importlib.util.spec_from_file_location("train_demo_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def resolve_model(arg):
    """(display name, .pt path, sidecar path) for a --models entry."""
    if arg in KNOWN_MODELS:
        path = os.path.join(MODELS_DIR, f"{arg}_fmnist.pt")
    else:
        path = arg
    if not os.path.isfile(path):
        if arg in KNOWN_MODELS or os.sep in arg or arg.endswith(".pt"):
            raise Refusal(f"the model file {path} does not exist")
        raise Refusal(f"the model '{arg}' is neither one of {', '.join(KNOWN_MODELS)} nor an existing file")
    name = os.path.splitext(os.path.basename(path))[0]
    if name.endswith("_fmnist") and name[:-len("_fmnist")] in KNOWN_MODELS:
        name = name[:-len("_fmnist")]
    return name, path, os.path.splitext(path)[0] + ".json"


def read_sidecar(path, pt_path):
    if not os.path.isfile(path):
        raise Refusal(f"{pt_path} has no sidecar {path} with its normalization")
    try:
        with open(path) as f:
            card = json.load(f)
        norm = card["normalization"]
        mean, std = [float(v) for v in norm["mean"]], [float(v) for v in norm["std"]]
        shape = [int(v) for v in card.get("input_shape", [1, 28, 28])]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise Refusal(f"the sidecar {path} has no readable normalization mean/std ({e})")
    if shape != [1, 28, 28] or len(mean) != 1 or len(std) != 1 or std[0] <= 0:
        raise Refusal(f"the sidecar {path} describes input {shape} with mean {mean} and std {std}, "
                      f"not the 1x28x28 Fashion-MNIST input with one channel's mean and std")
    return mean, std


def build_eager(scripted, demo, pt_path):
    """The eager twin of a scripted demo model, with the scripted state_dict loaded strictly."""
    root = scripted.original_name
    classes = {"ResNet20": "resnet20", "MobileNetV2": "mobilenetv2", "ViT": "vit"}
    if root not in classes:
        raise Refusal(f"{pt_path} is a scripted {root}, which tools/train_demo_models.py does not define "
                      f"(it defines {', '.join(classes)})")
    cls, hp = demo.MODELS[classes[root]]
    model = cls(**hp.get("kwargs", {}))
    try:
        model.load_state_dict(scripted.state_dict(), strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise Refusal(f"{pt_path}'s parameters do not fit train_demo_models.py's {root} "
                      f"({' '.join(first[:2])[:200]})")
    if root == "ViT":
        heads = dict(scripted.named_modules())["encoder.layers.0.self_attn"].num_heads
        if heads != model.encoder.layers[0].self_attn.num_heads:
            raise Refusal(f"{pt_path}'s attention has {heads} heads, train_demo_models.py's ViT "
                          f"{model.encoder.layers[0].self_attn.num_heads}")
    return model.eval()


def fold_batchnorm(model):
    """Folds every BatchNorm2d whose input is a Conv2d used by that BatchNorm alone (found in a
    torch.fx trace) into the conv, and returns (folded pairs, BatchNorms left, a note)."""
    bns = [n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return [], [], "no BatchNorm layers"
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception as e:  # noqa: BLE001 - any tracing failure leaves BN in float
        return [], bns, f"BatchNorm left unfolded: torch.fx could not trace the model ({type(e).__name__})"
    calls = {}
    for node in graph.nodes:
        if node.op == "call_module":
            calls.setdefault(node.target, []).append(node)
    modules = dict(model.named_modules())
    pairs = []
    for node in graph.nodes:
        if node.op != "call_module" or not isinstance(modules[node.target], nn.BatchNorm2d):
            continue
        src = node.args[0] if node.args else None
        if (isinstance(src, torch.fx.Node) and src.op == "call_module"
                and isinstance(modules[src.target], nn.Conv2d) and len(src.users) == 1
                and len(calls[src.target]) == 1 and len(calls[node.target]) == 1
                and modules[node.target].track_running_stats
                and modules[node.target].num_features == modules[src.target].out_channels):
            pairs.append((src.target, node.target))
    for conv_name, bn_name in pairs:
        fused = torch.nn.utils.fusion.fuse_conv_bn_eval(modules[conv_name], modules[bn_name])
        set_submodule(model, conv_name, fused)
        set_submodule(model, bn_name, nn.Identity())
    folded_bns = {bn for _, bn in pairs}
    left = [b for b in bns if b not in folded_bns]
    note = f"{len(pairs)} of {len(bns)} BatchNorm layers folded into the conv before them (torch.fx graph)"
    if left:
        note += f"; left in float (input not a conv used by it alone): {', '.join(left)}"
    return pairs, left, note


def set_submodule(model, name, new):
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


# ---------------------------------------------------------------- quantizers

def check_qrange_warnings():
    # The observers warn once about their deprecated reduce_range path; nothing to act on here.
    warnings.filterwarnings("ignore", module="torch.ao.quantization.observer")


class ActQuant:
    """One activation quantization point: observes in 'observe' mode, fake-quantizes in 'quant'."""

    def __init__(self, bits, fixed_unit_range=False):
        self.bits = bits
        qmax = 2 ** bits - 1
        if fixed_unit_range:
            self.observer = FixedQParamsObserver(scale=1.0 / qmax, zero_point=0, dtype=torch.quint8,
                                                 qscheme=torch.per_tensor_affine, quant_min=0, quant_max=qmax)
        else:
            self.observer = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine,
                                           quant_min=0, quant_max=qmax)
        self.mode = "off"
        self.scale = self.zero_point = None

    def freeze(self):
        scale, zero_point = self.observer.calculate_qparams()
        self.scale, self.zero_point = float(scale.reshape(-1)[0]), int(zero_point.reshape(-1)[0])
        self.mode = "quant"

    def __call__(self, x):
        if self.mode == "observe":
            self.observer(x.detach())
            return x
        if self.mode == "quant":
            return torch.fake_quantize_per_tensor_affine(x, self.scale, self.zero_point, 0, 2 ** self.bits - 1)
        return x


def fake_quant_weight(w, bits, per_channel):
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if per_channel:
        obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
                                       quant_min=qmin, quant_max=qmax)
        obs(w)
        scale, zero_point = obs.calculate_qparams()
        return torch.fake_quantize_per_channel_affine(w, scale.float(), zero_point.to(torch.int32), 0, qmin, qmax)
    obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=qmin, quant_max=qmax)
    obs(w)
    scale, zero_point = obs.calculate_qparams()
    return torch.fake_quantize_per_tensor_affine(w, float(scale), int(zero_point), qmin, qmax)


# ---------------------------------------------------------------- the ViT's attention, explicitly

def _attention(layer, h):
    """nn.MultiheadAttention's self-attention (batch first, no masks, eval) with its in_proj as a
    Linear module and quantization points on both inputs of each matmul."""
    attn = layer.self_attn
    b, t, d = h.shape
    heads = attn.num_heads
    hd = d // heads
    qkv = attn.in_proj(h)
    q, k, v = qkv.split(d, dim=-1)
    q = q.reshape(b, t, heads, hd).transpose(1, 2) / math.sqrt(hd)
    k = k.reshape(b, t, heads, hd).transpose(1, 2)
    v = v.reshape(b, t, heads, hd).transpose(1, 2)
    points = layer._fq_points
    scores = torch.matmul(points["qk.a"](q), points["qk.b"](k).transpose(-2, -1))
    probs = torch.softmax(scores, dim=-1)
    ctx = torch.matmul(points["pv.a"](probs), points["pv.b"](v))
    ctx = ctx.transpose(1, 2).reshape(b, t, d)
    return attn.out_proj(ctx)


def _encoder_layer_forward(self, src, src_mask=None, src_key_padding_mask=None):
    if src_mask is not None or src_key_padding_mask is not None:
        raise RuntimeError("the explicit attention takes no masks")
    x = src
    if self.norm_first:
        x = x + self.dropout1(_attention(self, self.norm1(x)))
        x = x + self._ff_block(self.norm2(x))
    else:
        x = self.norm1(x + self.dropout1(_attention(self, x)))
        x = self.norm2(x + self._ff_block(x))
    return x


def make_attention_explicit(model):
    """Replaces each TransformerEncoderLayer's forward (whose fast path calls no submodule) with an
    explicit one; returns the names of the layers changed."""
    changed = []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.TransformerEncoderLayer):
            attn = mod.self_attn
            if not (attn.batch_first and attn._qkv_same_embed_dim and attn.in_proj_weight is not None):
                raise Refusal(f"the attention {name}.self_attn is not the batch-first, same-width kind this "
                              f"script rewrites")
            d = attn.embed_dim
            lin = nn.Linear(d, 3 * d, bias=attn.in_proj_bias is not None)
            with torch.no_grad():
                lin.weight.copy_(attn.in_proj_weight)
                if attn.in_proj_bias is not None:
                    lin.bias.copy_(attn.in_proj_bias)
            attn.in_proj = lin
            mod._fq_points = {k: (lambda x: x) for k in ("qk.a", "qk.b", "pv.a", "pv.b")}
            mod.forward = types.MethodType(_encoder_layer_forward, mod)
            changed.append(name)
    return changed


# ---------------------------------------------------------------- quantizing a model

def layer_order(model, sample):
    """Conv2d/Linear modules in the order their forward first runs on @p sample, and those that never run."""
    order, handles = [], []
    candidates = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for n, m in candidates:
        handles.append(m.register_forward_pre_hook(
            lambda mod, inp, n=n: order.append(n) if n not in order else None))
    with torch.no_grad():
        model(sample)
    for h in handles:
        h.remove()
    never = [n for n, _ in candidates if n not in order]
    return order, never


def evaluate(model, x, y):
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], EVAL_BATCH):
            correct += (model(x[i:i + EVAL_BATCH]).argmax(1) == y[i:i + EVAL_BATCH]).sum().item()
    return 100.0 * correct / x.shape[0]


def quantize(base, order, wbits, abits, per_channel, calib_x):
    """A fake-quantized copy of @p base (BN folded, FP32): returns the model."""
    model = copy.deepcopy(base)
    modules = dict(model.named_modules())
    edge = {order[0], order[-1]}
    points = []
    for name in order:
        mod = modules[name]
        wb, ab = (8, 8) if name in edge else (wbits, abits)
        with torch.no_grad():
            mod.weight.copy_(fake_quant_weight(mod.weight.detach(), wb, per_channel))
        point = ActQuant(ab)
        points.append(point)
        mod.register_forward_pre_hook(lambda m, inp, p=point: (p(inp[0]),) + tuple(inp[1:]))
    for mod in modules.values():
        if isinstance(mod, nn.TransformerEncoderLayer) and hasattr(mod, "_fq_points"):
            mod._fq_points = {"qk.a": ActQuant(abits), "qk.b": ActQuant(abits),
                              "pv.a": ActQuant(abits, fixed_unit_range=True), "pv.b": ActQuant(abits)}
            points.extend(mod._fq_points.values())
    # Calibration as torch.ao.quantization does it: observers in the FP32 network (FP32 weights).
    fp_model = copy.deepcopy(base)
    fp_modules = dict(fp_model.named_modules())
    for name, point in zip(order, points):
        fp_modules[name].register_forward_pre_hook(lambda m, inp, p=point: (p(inp[0]),) + tuple(inp[1:]))
    for name, mod in fp_modules.items():
        if isinstance(mod, nn.TransformerEncoderLayer) and hasattr(mod, "_fq_points"):
            mod._fq_points = modules[name]._fq_points
    for p in points:
        p.mode = "observe"
    with torch.no_grad():
        for i in range(0, calib_x.shape[0], CALIB_BATCH):
            fp_model(calib_x[i:i + CALIB_BATCH])
    for p in points:
        p.freeze()
    return model


def parse_bits(text):
    settings = []
    for item in text.split(","):
        item = item.strip().lower()
        m = re.fullmatch(r"w(\d+)a(\d+)", item)
        if not m:
            raise Refusal(f"'{item}' in --bits is not of the form wXaY (for example w4a4)")
        w, a = int(m.group(1)), int(m.group(2))
        if not (2 <= w <= 8 and 2 <= a <= 8):
            raise Refusal(f"'{item}' in --bits asks for {w}-bit weights and {a}-bit activations; "
                          f"both must be between 2 and 8")
        if (w, a) not in settings:
            settings.append((w, a))
    if not settings:
        raise Refusal("--bits names no setting")
    return settings


def main():
    parser = Parser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="resnet20,mobilenetv2",
                        help="comma-separated: resnet20, mobilenetv2, vit or paths to TorchScript files")
    parser.add_argument("--bits", default="w4a4,w3a3,w2a4,w3a8", help="comma-separated wXaY, X and Y in 2..8")
    parser.add_argument("--calib", type=int, default=1000, help="the first N training images calibrate")
    parser.add_argument("--eval-count", type=int, default=10000, help="evaluate on the first K test images")
    parser.add_argument("--granularity", choices=["per-channel", "per-tensor"], default="per-channel",
                        help="of the weight quantizers (activations are always per tensor)")
    parser.add_argument("--json", help="write the results as a JSON list to FILE")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.calib < 1:
        raise Refusal(f"--calib {args.calib} asks for no calibration images; give at least 1")
    if not 1 <= args.eval_count <= 10000:
        raise Refusal(f"--eval-count {args.eval_count} is outside 1..10000 (the test set holds 10,000 images)")
    if args.threads < 1:
        raise Refusal(f"--threads {args.threads} must be at least 1")
    settings = parse_bits(args.bits)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    if not names:
        raise Refusal("--models names no model")
    models = [resolve_model(n) for n in names]
    cards = [read_sidecar(card, pt) for _, pt, card in models]
    if args.json:
        folder = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(folder):
            raise Refusal(f"the folder of --json {args.json} does not exist")

    torch.set_num_threads(args.threads)
    check_qrange_warnings()
    per_channel = args.granularity == "per-channel"
    calib_u8, _ = load_split("train", args.calib)
    test_u8, test_y = load_split("test", args.eval_count)
    demo = load_demo_module()

    print(f"PyTorch {torch.__version__} fake-quant, min-max observers; weights symmetric signed "
          f"{args.granularity} (PerChannelMinMaxObserver / MinMaxObserver, per_*_symmetric), activations "
          f"per-tensor affine unsigned (MinMaxObserver) at every Conv2d/Linear input; calibration: first "
          f"{args.calib} training images; evaluation: {'all' if args.eval_count == 10000 else 'first'} "
          f"{args.eval_count} test images; {args.threads} threads.")
    print("First and last quantized layers (execution order) keep 8-bit weights and 8-bit input activations.")
    results = []
    rows = []
    for (name, pt_path, _), (mean, std) in zip(models, cards):
        try:
            scripted = torch.jit.load(pt_path, map_location="cpu").eval()
        except Exception as e:  # noqa: BLE001 - any load failure is the user's file
            raise Refusal(f"{pt_path} is not a TorchScript file torch.jit.load can read ({type(e).__name__})")
        eager = build_eager(scripted, demo, pt_path)
        x_test = normalize(test_u8, mean, std)
        x_calib = normalize(calib_u8, mean, std)

        t0 = time.time()
        fp32_scripted = evaluate(scripted, x_test, test_y)
        fp32_eager = evaluate(eager, x_test, test_y)
        print(f"\n{name}: {pt_path}")
        print(f"  FP32 top-1: TorchScript {fp32_scripted:.2f} %, eager twin {fp32_eager:.2f} % "
              f"({time.time() - t0:.1f} s)")
        if abs(fp32_scripted - fp32_eager) > 0.01 + 1e-9:
            raise Refusal(f"the eager twin of {pt_path} scores {fp32_eager:.2f} % against the TorchScript "
                          f"file's {fp32_scripted:.2f} %, so it is not the same model")
        base = copy.deepcopy(eager)
        explicit = make_attention_explicit(base)
        _, left, note = fold_batchnorm(base)
        print(f"  BatchNorm: {note}")
        if explicit:
            print(f"  attention: {len(explicit)} encoder layers run explicitly (in_proj as a Linear, "
                  f"quantizers on both inputs of q@k^T and softmax@v, the softmax output on [0, 1])")
        order, never = layer_order(base, x_test[:2])
        if not order:
            raise Refusal(f"{pt_path} runs no Conv2d or Linear layer, so there is nothing to quantize")
        fp32_base = evaluate(base, x_test, test_y)
        print(f"  FP32 top-1 after the rewrite (BN folded{', explicit attention' if explicit else ''}): "
              f"{fp32_base:.2f} %")
        print(f"  {len(order)} quantized layers; 8-bit: {order[0]} (first), {order[-1]} (last)")
        if never:
            print(f"  never run, so not quantized: {', '.join(never)}")
        for wbits, abits in settings:
            t0 = time.time()
            qmodel = quantize(base, order, wbits, abits, per_channel, x_calib)
            top1 = evaluate(qmodel, x_test, test_y)
            seconds = time.time() - t0
            bits = f"w{wbits}a{abits}"
            print(f"  {bits.upper()}: top-1 {top1:.2f} % (drop {fp32_scripted - top1:.2f} pt, {seconds:.1f} s)",
                  flush=True)
            rows.append((name, bits.upper(), fp32_scripted, top1))
            results.append({"model": name, "bits": bits, "granularity": args.granularity, "calib": args.calib,
                            "fp32_top1": round(fp32_scripted, 2), "top1": round(top1, 2),
                            "drop": round(fp32_scripted - top1, 2), "seconds": round(seconds, 1),
                            "eval_images": args.eval_count, "bn_unfolded": left,
                            "first_last_8bit": [order[0], order[-1]]})

    print(f"\n| model | bits | granularity | calib | FP32 | top-1 | drop |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, bits, fp32, top1 in rows:
        print(f"| {name} | {bits} | {args.granularity} | {args.calib} | {fp32:.2f} | {top1:.2f} | {fp32 - top1:.2f} |")
    if args.json:
        try:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
                f.write("\n")
        except OSError as e:
            raise Refusal(f"cannot write {args.json}: {e.strerror}")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    try:
        main()
    except Refusal as e:
        text = str(e)
        print(f"error: {text}.", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
