#!/usr/bin/python3
"""Regenerates the 'vit' section of docs/RESULTS.md: the demo ViT (resources/models/vit_fmnist.pt)
at uniform bit-widths with the naive, light and advanced pipelines, and mixed precision at 0.16
and 0.25 of the FP32 size, top-1 on the 10k Fashion-MNIST test images.

    /usr/bin/python3 tools/results/vit.py        (or: make results)

Every Linear layer has per-channel weights and a quantized input; the attention matmuls (Q·Kᵀ,
P·V) quantize both inputs at the activation bits (the softmax output at its fixed [0, 1]).
The first and last layers with weights (the patch embedding and the head) stay at 8 bits.
About 20 `ptq quantize` runs; 20-40 minutes on 2 cores.
"""
import json
import os
import sys

from common import ROOT, machine_line, replace_section, run_json

MODEL = os.environ.get("PTQ_VIT_MODEL", os.path.join(ROOT, "resources", "models", "vit_fmnist.pt"))
BITS = [(8, 8), (6, 6), (4, 8), (4, 4)]
PIPELINES = ["none", "light", "advanced"]
RATIOS = [0.16, 0.25]
CALIB = "fmnist:train:1000"


# Runs already made (by their arguments), so that a run stopped half-way resumes where it was.
CACHE = os.path.join(ROOT, "build", "results-vit-runs.json")


def quantize(extra, fp32_too=False):
    args = ["quantize", MODEL, "--calib", CALIB, "--eval", "fmnist:test", "--granularity", "per-channel"] + extra
    if not fp32_too:
        args.append("--no-fp32")
    runs = json.load(open(CACHE)) if os.path.exists(CACHE) else {}
    key = " ".join(args)
    if key not in runs:
        runs[key] = run_json(args)
        os.makedirs(os.path.dirname(CACHE), exist_ok=True)
        with open(CACHE, "w") as f:
            json.dump(runs, f)
    return runs[key]


def main():
    fp32 = None
    rows = []
    notes = set()
    for w, a in BITS:
        cells = []
        for pipeline in PIPELINES:
            r = quantize(["--w", str(w), "--a", str(a), "--keep-first-last-8bit", "--pipeline", pipeline],
                         fp32_too=fp32 is None)
            if fp32 is None:
                fp32 = r["fp32_top1"]
            notes.update(r.get("notes", []))
            cells.append((r["quant_top1"], r.get("tune_seconds", 0.0)))
        rows.append((f"W{w}A{a}", cells))
    mixed = []
    for ratio in RATIOS:
        cells = []
        for pipeline in ["light", "advanced"]:
            r = quantize(["--max-size-ratio", str(ratio), "--pipeline", pipeline])
            cells.append((r["quant_top1"], r.get("allocated_size_ratio", ratio)))
        mixed.append((ratio, cells))

    def cell(v):
        return f"{v:.2f} ({v - fp32:+.2f})"

    lines = [
        "## The demo ViT: uniform bits and mixed precision",
        "",
        f"`resources/models/vit_fmnist.pt` (patch 7, 16 patches and a class token, 6 pre-norm encoder blocks of "
        f"width 128 with 4 heads, 0.80 M parameters): FP32 top-1 **{fp32:.2f} %** on the 10,000 Fashion-MNIST test "
        "images. Per-channel weights on every Linear layer (and the patch embedding), an activation quantizer on "
        "every Linear input and on both inputs of each attention matmul (the softmax output at its fixed range "
        "[0, 1]); LayerNorm, GELU and softmax in float. Calibration on 1000 training images; the patch embedding "
        "and the head at 8 bits. Top-1 in %, the change from FP32 in brackets; naive is calibration only, light "
        "adds BN tuning and bias correction, advanced AdaQuant, BN tuning and bias tuning "
        f"(`tools/results/vit.py`, {machine_line()}).",
        "",
        "| bits | naive | light | advanced |",
        "|---|---:|---:|---:|",
    ]
    for name, cells in rows:
        lines.append(f"| {name} | " + " | ".join(cell(v) for v, _ in cells) + " |")
    lines += [
        "",
        "Mixed precision: `ptq quantize --max-size-ratio R` measures the sensitivity table (the attention matmuls "
        "are rows of their own, activation bits only, no storage), solves the integer program at R of the FP32 "
        "weight size and runs the pipeline on the allocation.",
        "",
        "| size budget | light | advanced |",
        "|---:|---:|---:|",
    ]
    for ratio, cells in mixed:
        lines.append(f"| {ratio:.2f} of FP32 | " + " | ".join(cell(v) for v, _ in cells) + " |")
    if notes:
        lines += ["", "What the pipelines said on this model: " + " ".join(sorted(notes))]
    replace_section("vit", "\n".join(lines))


if __name__ == "__main__":
    main()
