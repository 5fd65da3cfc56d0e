#!/usr/bin/python3
"""AdaQuant results for docs/RESULTS.md: runs the built `ptq` with --json and rewrites only the
part of docs/RESULTS.md between <!-- adaquant:begin --> and <!-- adaquant:end --> (appended when
absent), plus the per-layer CSV docs/results/adaquant_layers.csv.

    /usr/bin/python3 tools/results/adaquant.py [--ptq build/app/ptq] [--models resnet20,mobilenetv2]
        [--bits w4a4,w4a8] [--calib 1000,100] [--no-sequential]

Per (model, bits, calibration size) three runs: the advanced pipeline with --eval-each-step
(naive rounding, + AdaQuant parallel, + BN tuning, + bias tuning), the light pipeline, and
AdaQuant sequential alone. First and last layers stay 8-bit; evaluation on fmnist:test (10k).
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEGIN, END = "<!-- adaquant:begin -->", "<!-- adaquant:end -->"
MODELS = {"resnet20": "resources/models/resnet20_fmnist.pt", "mobilenetv2": "resources/models/mobilenetv2_fmnist.pt"}


def run(ptq, model, bits, calib, extra):
    w, a = bits[1], bits[3]
    cmd = [ptq, "quantize", os.path.join(ROOT, MODELS[model]), "--calib", f"fmnist:train:{calib}",
           "--eval", "fmnist:test", "--w", w, "--a", a, "--keep-first-last-8bit", "--json"] + extra
    t0 = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    r = json.loads(out.stdout)
    r["wall_seconds"] = time.time() - t0
    print(f"  {model} {bits} {calib}: {' '.join(extra)} -> {r['quant_top1']:.2f} % ({r['wall_seconds']:.0f} s)",
          file=sys.stderr)
    return r


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ptq", default=os.path.join(ROOT, "build/app/ptq"))
    p.add_argument("--models", default="resnet20,mobilenetv2")
    p.add_argument("--bits", default="w4a4,w4a8")
    p.add_argument("--calib", default="1000,100")
    p.add_argument("--no-sequential", action="store_true")
    args = p.parse_args()

    rows, layer_rows = [], []
    for model in args.models.split(","):
        for bits in args.bits.split(","):
            for calib in [int(c) for c in args.calib.split(",")]:
                adv = run(args.ptq, model, bits, calib, ["--pipeline", "advanced", "--eval-each-step"])
                light = run(args.ptq, model, bits, calib, ["--pipeline", "light"])
                seq = None if args.no_sequential else run(args.ptq, model, bits, calib, ["--adaquant", "--sequential"])
                steps = {s["step"]: s["top1"] for s in adv["steps"]}
                rows.append(dict(model=model, bits=bits.upper(), calib=calib, fp32=adv["fp32_top1"],
                                 naive=steps["calibration"], light=light["quant_top1"], par=steps["adaquant"],
                                 seq=seq["quant_top1"] if seq else None, bn=steps["bn-tuning"],
                                 bias=steps["bias-tuning"], seconds=adv["tune_seconds"],
                                 ada_seconds=adv["adaquant"]["seconds"], subsampled=adv["adaquant"]["subsampled"]))
                for flavour, r in (("parallel", adv), ("sequential", seq)):
                    if r is None:
                        continue
                    for l in r["adaquant"]["layers"]:
                        layer_rows.append([model, bits.upper(), calib, flavour, l["layer"], l["w_bits"], l["a_bits"],
                                           int(l["relu_in_loss"]), f"{l['mse_before']:.6g}", f"{l['mse_after']:.6g}",
                                           int(l["applied"])])

    os.makedirs(os.path.join(ROOT, "docs/results"), exist_ok=True)
    with open(os.path.join(ROOT, "docs/results/adaquant_layers.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "bits", "calib", "flavour", "layer", "w_bits", "a_bits", "relu_in_loss", "mse_before",
                    "mse_after", "applied"])
        w.writerows(layer_rows)

    fmt = lambda v: "—" if v is None else f"{v:.2f}"
    s = io.StringIO()
    s.write(BEGIN + "\n")
    s.write("## AdaQuant, BN tuning and bias tuning\n\n")
    s.write("Regenerate: `/usr/bin/python3 tools/results/adaquant.py` (runs `build/app/ptq quantize ... --json`; "
            f"this table: `--models {args.models} --bits {args.bits} --calib {args.calib}`).\n\n")
    s.write("Top-1 (%) on the Fashion-MNIST test set (10,000 images); first and last layer 8-bit, weights per "
            "channel, min-max ranges, calibration images the first N of fmnist:train. Columns after *light* "
            "accumulate: *AdaQuant par.* is naive + parallel AdaQuant, *+ BN tuning* adds BN tuning to it, "
            "*+ bias tuning* adds bias tuning (= `--pipeline advanced`). *AdaQuant seq.* is naive + sequential "
            "AdaQuant alone. Defaults: 200 iterations, batch 64 (see below).\n\n")
    s.write("| model | bits | calib | FP32 | naive | light | AdaQuant par. | AdaQuant seq. | + BN tuning | "
            "+ bias tuning | drop | tuning s |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        s.write(f"| {r['model']} | {r['bits']} | {r['calib']} | {fmt(r['fp32'])} | {fmt(r['naive'])} | "
                f"{fmt(r['light'])} | {fmt(r['par'])} | {fmt(r['seq'])} | {fmt(r['bn'])} | {fmt(r['bias'])} | "
                f"{r['fp32'] - r['bias']:.2f} | {r['seconds']:.0f} |\n")
    s.write("\n*tuning s* is the advanced pipeline's tuning time including its three step evaluations on 10k "
            "images, on the shared 2-core machine. Per-layer output MSE before/after AdaQuant (after the "
            "following ReLU when there is one, on the layer's calibration inputs): "
            "[docs/results/adaquant_layers.csv](results/adaquant_layers.csv).\n\n")
    notes = os.path.join(ROOT, "docs/results/adaquant_notes.md")
    if os.path.exists(notes):
        s.write(open(notes).read().rstrip() + "\n")
    s.write(END + "\n")

    path = os.path.join(ROOT, "docs/RESULTS.md")
    text = open(path).read() if os.path.exists(path) else "# Results\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + s.getvalue() + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip() + "\n\n" + s.getvalue()
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
