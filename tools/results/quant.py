#!/usr/bin/python3
"""Regenerates the 'quant' section of docs/RESULTS.md: uniform fake quantization of both demo
models on the Fashion-MNIST test set, by bit-width, weight granularity, clipping, tuning step and
calibration-set size.

    /usr/bin/python3 tools/results/quant.py        (or: make results)

About 70 `ptq quantize` runs; 15-30 minutes on 2 cores.
"""
import sys

from common import MODELS, machine_line, replace_section, run_json

BITS = [(8, 8), (6, 6), (4, 8), (4, 4)]
# (column title, granularity, range method, bn tuning, bias correction)
COLUMNS = [
    ("per-tensor min-max", "per-tensor", "minmax", False, False),
    ("per-tensor MSE", "per-tensor", "mse", False, False),
    ("per-channel min-max", "per-channel", "minmax", False, False),
    ("per-channel MSE", "per-channel", "mse", False, False),
    ("+ BN tuning", "per-channel", "mse", True, False),
    ("+ bias correction (light)", "per-channel", "mse", True, True),
]
CALIB = [1000, 100]


def main():
    sections = []
    summary = {}
    for model, path in MODELS.items():
        print(model, file=sys.stderr)
        info = run_json(["info", path])
        fp32 = None
        tables = []
        for n in CALIB:
            # 100 images: the columns that depend on the calibration set's size most.
            cols = COLUMNS if n == 1000 else COLUMNS[3:]
            rows = []
            for w, a in BITS:
                cells = []
                for title, gran, method, bn, bias in cols:
                    args = ["quantize", path, "--calib", f"fmnist:train:{n}", "--eval", "fmnist:test",
                            "--w", str(w), "--a", str(a), "--keep-first-last-8bit",
                            "--granularity", gran, "--weight-range", method, "--act-range", method]
                    if bn:
                        args.append("--bn-tuning")
                    if bias:
                        args.append("--bias-correction")
                    if fp32 is None:
                        r = run_json(args)
                        fp32 = r["fp32_top1"]
                    else:
                        r = run_json(args + ["--no-fp32"])
                    cells.append(r["quant_top1"])
                    summary[(model, n, w, a, title)] = r["quant_top1"]
                rows.append((f"W{w}A{a}", cells))
            head = "| bits | " + " | ".join(c[0] for c in cols) + " |"
            rule = "|---|" + "---:|" * len(cols)
            body = [f"| {name} | " + " | ".join(f"{v:.2f} ({v - fp32:+.2f})" for v in cells) + " |"
                    for name, cells in rows]
            tables.append(f"Calibration on {n} training images:\n\n" + "\n".join([head, rule] + body))
        sections.append(f"### {model} (FP32 {fp32:.2f} %, {info['total_params']:,} parameters)\n\n" +
                        "\n\n".join(tables))

    light = summary[("ResNet-20", 1000, 8, 8, "+ bias correction (light)")]
    text = f"""## Quantization: uniform bit-widths, clipping, BN tuning, bias correction

Regenerate with `/usr/bin/python3 tools/results/quant.py` (or `make results`); measured on
{machine_line()}. Top-1 on the 10,000 Fashion-MNIST test images, fake-quantized (weights
quantized once, activations at every conv/linear input, BatchNorm folded), with the difference
to FP32 in points. First and last layer stay at 8 bits in every row. Weights are symmetric
signed, activations asymmetric unsigned. "MSE" is MSE-optimal clipping for both weights (per
channel when per-channel) and activations; the tuning columns build on per-channel MSE.
"light" = ranges + BN tuning + bias correction, without backprop.

""" + "\n\n".join(sections)
    replace_section("quant", text)
    print(f"ResNet-20 W8A8 per-channel light, 1000 images: {light:.2f} %", file=sys.stderr)


if __name__ == "__main__":
    main()
