#!/usr/bin/python3
"""Regenerates the 'datafree' section of docs/RESULTS.md: ZeroQ data-free quantization of both
demo models. Distilled data (32 images from the BatchNorm statistics) against the same number of
real training images at W8A8; data-free W4A8; data-free mixed precision at 0.2 of the FP32
weight size through the KL sensitivity table on the distilled data and the integer program;
the time of each step.

    /usr/bin/python3 tools/results/datafree.py        (or: make results)

About 15 minutes on 2 cores.
"""
import os
import sys

from common import MODELS, ROOT, machine_line, replace_section, run_json

COUNT = 32
OPTIONS = "w2a8,w3a8,w4a8,w5a8,w6a8,w8a8"
RATIO = 0.2
WORK = os.path.join(ROOT, "build", "results", "datafree")


def quantize(path, calib, w, a, fp32=False, extra=()):
    args = ["quantize", path, "--calib", calib, "--eval", "fmnist:test", "--w", str(w), "--a", str(a),
            "--keep-first-last-8bit"] + list(extra)
    return run_json(args if fp32 else args + ["--no-fp32"])


def main():
    os.makedirs(WORK, exist_ok=True)
    rows, times = [], []
    for model, path in MODELS.items():
        print(model, file=sys.stderr)
        key = os.path.splitext(os.path.basename(path))[0]
        data = os.path.join(WORK, f"{key}_distilled{COUNT}.pt")
        png = os.path.join(ROOT, "docs", "images", f"distilled_{key}.png")
        d = run_json(["distill", path, "--count", str(COUNT), "--out", data, "--png", png])
        distilled = "distilled:" + data
        real = f"fmnist:train:{COUNT}"
        w8_d = quantize(path, distilled, 8, 8, fp32=True)
        fp32 = w8_d["fp32_top1"]
        w8_r = quantize(path, real, 8, 8)
        w4_d = quantize(path, distilled, 4, 8)
        w4_r = quantize(path, real, 4, 8)
        table = os.path.join(WORK, f"{key}_table.json")
        s = run_json(["sensitivity", path, "--calib", distilled, "--options", OPTIONS, "--out", table, "--force"])
        alloc = os.path.join(WORK, f"{key}_alloc.json")
        al = run_json(["allocate", "--table", table, "--max-size-ratio", str(RATIO), "--out", alloc])
        mixed = run_json(["evaluate", path, "--alloc", alloc, "--eval", "fmnist:test"])
        rows.append((model, fp32, w8_d["quant_top1"], w8_r["quant_top1"], w4_d["quant_top1"], w4_r["quant_top1"],
                     mixed["quant_top1"], al["size_ratio"]))
        times.append((model, d["seconds"], d["batch_norms"], s["seconds"], al["solve_ms"],
                      d["seconds"] + s["seconds"] + al["solve_ms"] / 1000.0))
    out = [
        "## Data-free quantization (ZeroQ)",
        "",
        f"Regenerate with `/usr/bin/python3 tools/results/datafree.py` (or `make results`); measured on "
        f"{machine_line()}. *Distilled*: {COUNT} images made by `ptq distill` from noise so that every "
        "BatchNorm's per-image statistics match its running statistics (500 Adam steps, lr 0.5, "
        "reduce-on-plateau, as ZeroQ) and image i is classified as class i mod 10 (the label term, "
        "weight 1: without it the classifier's input comes out several times smaller than from real "
        "images, and so does its activation range), no real image used; *real*: the first "
        f"{COUNT} Fashion-MNIST training images. Top-1 on the 10,000 test images; per-channel weights, "
        "min-max ranges, first and last layer 8-bit, no tuning. *Mixed*: `ptq sensitivity --calib "
        f"distilled:...` (KL to the FP32 model on the distilled images, options {OPTIONS}), then `ptq allocate "
        f"--max-size-ratio {RATIO}` and `ptq evaluate` (calibrated on the distilled images).",
        "",
        "| model | FP32 | W8A8 distilled | W8A8 real | W4A8 distilled | W4A8 real | mixed, data-free | its size of FP32 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m, fp, w8d, w8r, w4d, w4r, mx, ratio in rows:
        out.append(f"| {m} | {fp:.2f} | {w8d:.2f} ({w8d - fp:+.2f}) | {w8r:.2f} ({w8r - fp:+.2f}) | "
                   f"{w4d:.2f} ({w4d - fp:+.2f}) | {w4r:.2f} ({w4r - fp:+.2f}) | {mx:.2f} ({mx - fp:+.2f}) | {ratio:.3f} |")
    out += ["", "Time of the data-free pipeline (distil + sensitivity + integer program), seconds:", "",
            "| model | distil 32 images | BatchNorms matched | KL sensitivity | IP solve (ms) | total |",
            "|---|---:|---:|---:|---:|---:|"]
    for m, ds, bns, ss, ms, total in times:
        out.append(f"| {m} | {ds:.1f} | {bns} | {ss:.1f} | {ms:.1f} | {total:.1f} |")
    out += ["", "Goals: data-free W8A8 ≤ 0.3 pt below FP32 on ResNet-20; distilling 32 images ≤ 60 s on "
            "ResNet-20 and ≤ 3 minutes on MobileNetV2; the whole data-free pipeline ≤ 2 minutes on ResNet-20. "
            "The distilled images of ResNet-20: "
            "[docs/images/distilled_resnet20_fmnist.png](images/distilled_resnet20_fmnist.png)."]
    replace_section("datafree", "\n".join(out))


if __name__ == "__main__":
    main()
