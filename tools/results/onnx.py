#!/usr/bin/python3
"""ONNX export results for docs/RESULTS.md: ONNX Runtime (npm's onnxruntime-node through
tools/ort_run.js) on the files `ptq export --format onnx|onnx-fp32` writes for the demo models,
against the app's own figures, and ONNX Runtime's latency of the QDQ file against the FP32 one.
Rewrites only the part of docs/RESULTS.md between <!-- onnx:begin --> and <!-- onnx:end -->.

    /usr/bin/python3 tools/results/onnx.py [--images 10000] [--runs 200] [--no-mixed]

The test images go to ONNX Runtime as a .npy file normalized with the model card's mean and std
(what the app's data sources do); the app's figures come from the same `ptq export` run
(--eval fmnist:test:N). Latency: median of --runs runs of one batch after 3 warm-up runs, on the
machine's cores (ONNX Runtime's default threads), graph optimizations on.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import MODELS, ROOT, machine_line, replace_section, run_json  # noqa: E402

ORT_RUN = os.path.join(ROOT, "tools", "ort_run.js")
FMNIST = "/usr/share/datasets/fashion-mnist"


def test_set(model, n, folder):
    card = json.load(open(os.path.splitext(model)[0] + ".json"))
    mean, std = card["normalization"]["mean"][0], card["normalization"]["std"][0]
    with gzip.open(os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    with gzip.open(os.path.join(FMNIST, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:n].astype(np.int64)
    x = ((images.astype(np.float32) / np.float32(255.0) - np.float32(mean)) / np.float32(std)).astype(np.float32)
    xs, ys = os.path.join(folder, "x.npy"), os.path.join(folder, "y.npy")
    np.save(xs, x)
    np.save(ys, labels)
    return xs, ys


def ort(onnx_file, xs, ys=None, batch=250, bench=0, fusions=True):
    cmd = ["node", ORT_RUN, onnx_file, "--data", xs, "--batch", str(batch)]
    if not fusions:
        cmd += ["--qdq-fusions", "off"]
    if ys:
        cmd += ["--labels", ys]
    if bench:
        cmd += ["--bench", str(bench)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"'{' '.join(cmd)}' failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--no-mixed", action="store_true")
    args = ap.parse_args()
    rows, speed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in MODELS.items():
            folder = os.path.join(tmp, name)
            os.makedirs(folder)
            xs, ys = test_set(model, args.images, folder)
            src = f"fmnist:test:{args.images}"
            fp32 = os.path.join(folder, "fp32.onnx")
            run_json(["export", model, "--format", "onnx-fp32", "-o", fp32])
            runs = {"W8A8 per-channel": ["--w", "8", "--a", "8", "--granularity", "per-channel"]}
            if not args.no_mixed:
                table, alloc = os.path.join(folder, "table.json"), os.path.join(folder, "alloc.json")
                run_json(["sensitivity", model, "--calib", "fmnist:train:500", "--options",
                          "w2a8,w3a8,w4a8,w5a8,w6a8,w8a8", "--out", table])
                run_json(["allocate", "--table", table, "--max-size-ratio", "0.16", "--out", alloc])
                runs["mixed, 0.16 of FP32 size"] = ["--alloc", alloc]
            first = True
            for label, bits in runs.items():
                out = os.path.join(folder, "qdq.onnx" if first else "mixed.onnx")
                app = run_json(["export", model, "--calib", "fmnist:train:256", "--eval", src, "--format", "onnx",
                                "-o", out] + bits)
                written = ort(out, xs, ys, fusions=False)
                fused = ort(out, xs, ys)
                if first:
                    fp = ort(fp32, xs, ys)
                    rows.append((name, "FP32 (onnx-fp32)", app["fp32_top1"], fp["top1"], None))
                    qdq_file = out
                rows.append((name, label, app["quant_top1"], written["top1"], fused["top1"]))
                first = False
            for batch in (1, 100):
                f = ort(fp32, xs, batch=batch, bench=args.runs)
                q = ort(qdq_file, xs, batch=batch, bench=args.runs)
                speed.append((name, batch, f["bench_median_ms"], q["bench_median_ms"], f["bench_min_ms"],
                              q["bench_min_ms"]))
            print(f"{name}: done", file=sys.stderr)
    lines = [
        "## ONNX export: ONNX Runtime against the app",
        "",
        f"Regenerate: `/usr/bin/python3 tools/results/onnx.py` ({machine_line()}; ONNX Runtime 1.30.0 from npm's",
        "onnxruntime-node, run by `tools/ort_run.js`). `ptq export MODEL --format onnx` (QDQ, opset 13, calibrated",
        f"on fmnist:train:256) and `--format onnx-fp32`; the app's top-1 is the same `ptq export` run's `--eval",
        f"fmnist:test:{args.images}` (fake-quantized); ONNX Runtime's is on the same {args.images:,} test images. The mixed",
        "allocation: `ptq sensitivity --calib fmnist:train:500 --options w2a8,w3a8,w4a8,w5a8,w6a8,w8a8`, then",
        "`ptq allocate --max-size-ratio 0.16`. The FP32 files' logits agree with the executor's within 1e-4",
        "(test_onnx_export on 2000 images: 3.8e-6 for ResNet-20, 1.5e-5 for MobileNetV2; test_onnx_export_full,",
        "label slow, on the 10,000). The test set's input here is normalized by this script (numpy, float32).",
        "",
        "ONNX Runtime runs each QDQ file twice: *as written* (`--qdq-fusions off`: its QDQ transformers off,",
        "float kernels on the dequantized values, which is what the app's fake-quantization simulates) and with",
        "its defaults (*fused*: DequantizeLinear -> Conv -> Relu -> QuantizeLinear groups become integer kernels",
        "and their float biases are rounded to int32 at input scale x weight scale, which the app does not model).",
        "",
        "| model | file | app top-1 | ONNX Runtime as written (vs app) | ONNX Runtime fused (vs app) |",
        "|---|---|---:|---:|---:|",
    ]
    for name, label, app, got, fused in rows:
        tail = "–" if fused is None else f"{fused:.2f} ({fused - app:+.2f})"
        lines.append(f"| {name} | {label} | {app:.2f} | {got:.2f} ({got - app:+.2f}) | {tail} |")
    lines += [
        "",
        f"ONNX Runtime latency (defaults, fused), median and fastest of {args.runs} runs (ms per batch), QDQ W8A8",
        "per-channel against FP32 (the machine had other builds running: the medians are noisy, the fastest runs",
        "steadier):",
        "",
        "| model | batch | FP32 median | QDQ median | QDQ / FP32 (median) | FP32 fastest | QDQ fastest |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, batch, f, q, fmin, qmin in speed:
        lines.append(f"| {name} | {batch} | {f:.3f} | {q:.3f} | {q / f:.2f} | {fmin:.3f} | {qmin:.3f} |")
    lines += [
        "",
        "The QDQ file quantizes each quantized layer's input (a QuantizeLinear/DequantizeLinear pair per consumer,",
        "as the app does), not the layers' outputs: ONNX Runtime makes an integer kernel only where a layer's",
        "output reaches a QuantizeLinear alone (through a Relu at most); layers whose output feeds a residual Add",
        "or a concatenation run as float kernels on dequantized weights, and the quantize/dequantize steps cost",
        "time of their own. The QDQ file is for the app's accuracy on integer toolchains, not a speed-up on this CPU.",
    ]
    text = "\n".join(lines)
    print(text)
    replace_section("onnx", text)


if __name__ == "__main__":
    main()
