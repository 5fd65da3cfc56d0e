#!/usr/bin/python3
"""Low-bit settings for docs/RESULTS.md: where naive quantization collapses, what each pipeline
recovers, with PyTorch's own fake-quant min-max as the peer baseline. Rewrites the part of
docs/RESULTS.md between <!-- lowbit:begin --> and <!-- lowbit:end -->.

    /usr/bin/python3 tools/results/lowbit.py [--models resnet20,mobilenetv2 (or vit)]
        [--bits w4a4,w3a3,w2a4,w3a8,w2a2] [--calib 1000,100] [--only-section] [--no-torch]

Per (model, bits, calibration size), on the Fashion-MNIST test set (10k), first and last layer
8-bit, weights per channel, min-max ranges:
  - `ptq quantize --pipeline advanced --eval-each-step`: naive (ranges only) and the advanced
    pipeline with per-layer AdaQuant (AdaQuant, BN tuning, bias tuning);
  - `ptq quantize --pipeline light`;
  - `ptq quantize --pipeline advanced --adaquant-blocks --eval-each-step`: block reconstruction
    alone and then with bias tuning (the advanced pipeline with blocks);
  - the same with `--equalize-ranges` for the models of --equalize (default mobilenetv2): naive,
    blocks and blocks + bias on the range-equalized model (depthwise inputs and residual streams);
  - tools/torch_fakequant_baseline.py: PyTorch's observers and fake-quant ops (Debian's PyTorch).
Measured points are kept in build/results/lowbit/points.json: an interrupted run resumes.
"""
import argparse
import json
import os
import subprocess

from common import ROOT, machine_line, replace_section, resumable_main, run_json, save_points

FILES = {"resnet20": "resources/models/resnet20_fmnist.pt", "mobilenetv2": "resources/models/mobilenetv2_fmnist.pt",
         "vit": "resources/models/vit_fmnist.pt"}
TITLES = {"resnet20": "ResNet-20", "mobilenetv2": "MobileNetV2", "vit": "ViT"}
WORK = os.path.join(ROOT, "build", "results", "lowbit")
POINTS = os.path.join(WORK, "points.json")
TARGETS = {("resnet20", "w3a3"): 0.5, ("resnet20", "w2a4"): 0.7, ("resnet20", "w2a2"): 4.0,
           ("mobilenetv2", "w4a4"): 0.4, ("mobilenetv2", "w3a3"): 1.5}


def save(points):
    save_points(POINTS, points)


def quantize(model, bits, calib, extra):
    w, a = bits[1:bits.index("a")], bits[bits.index("a") + 1:]
    return run_json(["quantize", os.path.join(ROOT, FILES[model]), "--calib", f"fmnist:train:{calib}", "--eval",
                     "fmnist:test", "--w", w, "--a", a, "--keep-first-last-8bit"] + extra)


def steps(r):
    return {s["step"]: s["top1"] for s in r.get("steps", [])}


def measure(args, points):
    for model in args.models.split(","):
        for bits in args.bits.split(","):
            for calib in [int(c) for c in args.calib.split(",")]:
                key = f"{model}/{bits}/{calib}"
                e = points.setdefault(key, {})
                if "advanced" not in e:
                    r = quantize(model, bits, calib, ["--pipeline", "advanced", "--eval-each-step"])
                    s = steps(r)
                    e.update(fp32=r["fp32_top1"], naive=s["calibration"], advanced=r["quant_top1"],
                             advanced_seconds=r["tune_seconds"])
                    save(points)
                if "light" not in e:
                    e["light"] = quantize(model, bits, calib, ["--pipeline", "light"])["quant_top1"]
                    save(points)
                if "blocks_bias" not in e:
                    r = quantize(model, bits, calib, ["--pipeline", "advanced", "--adaquant-blocks", "--eval-each-step"])
                    s = steps(r)
                    e.update(blocks=s["adaquant"], blocks_bias=r["quant_top1"], blocks_seconds=r["tune_seconds"])
                    save(points)
                if model in args.equalize.split(",") and "eq_blocks_bias" not in e:
                    r = quantize(model, bits, calib, ["--pipeline", "advanced", "--adaquant-blocks", "--eval-each-step",
                                                      "--equalize-ranges"])
                    s = steps(r)
                    e.update(eq_naive=s["calibration"], eq_blocks=s["adaquant"], eq_blocks_bias=r["quant_top1"],
                             eq_seconds=r["tune_seconds"] + r["equalization"]["seconds"],
                             eq_groups=len(r["equalization"]["groups"]))
                    save(points)
        if not args.no_torch:
            for calib in [int(c) for c in args.calib.split(",")]:
                todo = [b for b in args.bits.split(",") if "torch" not in points.get(f"{model}/{b}/{calib}", {})]
                if not todo:
                    continue
                out = os.path.join(WORK, f"torch_{model}_{calib}.json")
                subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "torch_fakequant_baseline.py"),
                                "--models", model, "--bits", ",".join(todo), "--calib", str(calib), "--json", out],
                               check=True)
                with open(out, encoding="utf-8") as f:
                    for row in json.load(f):
                        points.setdefault(f"{model}/{row['bits'].lower()}/{calib}", {})["torch"] = row["top1"]
                save(points)


def render(points):
    fmt = lambda v: "–" if v is None else f"{v:.2f}"
    rows = []
    for key in sorted(points, key=lambda k: (k.split("/")[0], k.split("/")[1], -int(k.split("/")[2]))):
        model, bits, calib = key.split("/")
        e = points[key]
        if "advanced" not in e:
            continue
        fp = e["fp32"]
        best = max(v for v in (e.get("advanced"), e.get("blocks"), e.get("blocks_bias"), e.get("eq_blocks"),
                               e.get("eq_blocks_bias")) if v is not None)
        target = TARGETS.get((model, bits))
        drop = lambda v: "–" if v is None else f"{fp - v:.2f}"
        eq_seconds = f" / {e['eq_seconds']:.0f}" if "eq_seconds" in e else ""
        rows.append(f"| {TITLES[model]} | {bits.upper()} | {calib} | {fp:.2f} | {fmt(e.get('torch'))} | "
                    f"{drop(e.get('naive'))} | {drop(e.get('light'))} | {drop(e.get('advanced'))} | "
                    f"{drop(e.get('blocks'))} | {drop(e.get('blocks_bias'))} | {drop(e.get('eq_naive'))} | "
                    f"{drop(e.get('eq_blocks'))} | {drop(e.get('eq_blocks_bias'))} | **{fp - best:.2f}**"
                    f"{f' (target ≤ {target})' if target and calib == '1000' else ''} | "
                    f"{e.get('advanced_seconds', 0):.0f} / {e.get('blocks_seconds', 0):.0f}{eq_seconds} |")
    text = ["## Low-bit settings: block reconstruction against per-layer AdaQuant", "",
            "Regenerate: `/usr/bin/python3 tools/results/lowbit.py` (resumable; points in "
            f"build/results/lowbit/points.json); {machine_line()}. Drop from FP32 in points on the Fashion-MNIST "
            "test set (10,000 images); first and last layer 8-bit, weights per channel, min-max ranges, the first "
            "N images of fmnist:train for calibration. *PyTorch* is top-1 (%) of "
            "tools/torch_fakequant_baseline.py: PyTorch's MinMax observers (per-channel symmetric weights, "
            "per-tensor affine activations) and fake-quant ops on the same models, BatchNorms folded. *naive*: "
            "ranges only; *light*: BN tuning and bias correction; *advanced*: per-layer AdaQuant, BN tuning, bias "
            "tuning; *blocks*: block reconstruction alone (`--adaquant-blocks`, 400 steps a block, batch 64); "
            "*blocks + bias*: the advanced pipeline with blocks (`--pipeline advanced --adaquant-blocks`); "
            "*eq.*: the same on the range-equalized model (`--equalize-ranges`: the channels of every depthwise "
            "input and residual stream rescaled, through the convs that write and read them, so that each "
            "channel spans the tensor's widest range; where measured): naive, blocks, blocks + bias. "
            "*best*: the best of the tuned columns. *s*: tuning seconds of the advanced pipeline, of the "
            "one with blocks and of the equalized one, step evaluations included, on the shared machine.", "",
            "| model | bits | calib | FP32 | PyTorch top-1 | naive | light | advanced | blocks | blocks + bias | "
            "eq. naive | eq. blocks | eq. blocks + bias | best | s |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"] + rows
    notes = os.path.join(ROOT, "docs", "results", "lowbit_notes.md")
    if os.path.exists(notes):
        text += ["", open(notes, encoding="utf-8").read().rstrip()]
    replace_section("lowbit", "\n".join(text))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="resnet20,mobilenetv2")
    p.add_argument("--bits", default="w4a4,w3a3,w2a4,w3a8,w2a2")
    p.add_argument("--calib", default="1000,100")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--equalize", default="mobilenetv2",
                   help="models also measured with --equalize-ranges (comma-separated; '' for none)")
    resumable_main(p, POINTS, measure, render)


if __name__ == "__main__":
    main()
