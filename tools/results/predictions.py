#!/usr/bin/python3
"""Predicted against measured top-1 along the budget sweep, for docs/RESULTS.md (the part between
<!-- predictions:begin --> and <!-- predictions:end -->).

    /usr/bin/python3 tools/results/predictions.py [--models resnet20] [--pipelines light,advanced]
        [--ratios 0.085,0.09,...] [--count 5] [--only-section]

Per model: `ptq sensitivity` (6 options, 2000 calibration images); per pipeline: `ptq anchors`
measures --count allocations along the frontier between 0.08 and 0.25 of the FP32 weight size;
then at each budget of the sweep (other budgets than the anchors') `ptq allocate --anchors`
predicts and `ptq evaluate --alloc --pipeline P` measures on the 10k test images. Resumable:
points in build/results/predictions/points.json.
"""
import argparse
import os

from common import ROOT, machine_line, replace_section, resumable_main, run_json, save_points

FILES = {"resnet20": "resources/models/resnet20_fmnist.pt", "mobilenetv2": "resources/models/mobilenetv2_fmnist.pt"}
TITLES = {"resnet20": "ResNet-20", "mobilenetv2": "MobileNetV2"}
OPTIONS = "w2a8,w3a8,w4a8,w5a8,w6a8,w8a8"
WORK = os.path.join(ROOT, "build", "results", "predictions")
POINTS = os.path.join(WORK, "points.json")


def save(points):
    save_points(POINTS, points)


def measure(args, points):
    os.makedirs(WORK, exist_ok=True)
    for model in args.models.split(","):
        path = os.path.join(ROOT, FILES[model])
        table = os.path.join(WORK, f"{model}_table.json")
        if not os.path.exists(table):
            run_json(["sensitivity", path, "--calib", "fmnist:train:2000", "--options", OPTIONS, "--out", table])
        for pipeline in args.pipelines.split(","):
            anchors = os.path.join(WORK, f"{model}_{pipeline}_anchors.json")
            key = f"{model}/{pipeline}"
            e = points.setdefault(key, {})
            if "anchors" not in e:
                a = run_json(["anchors", path, "--table", table, "--eval", "fmnist:test", "--pipeline", pipeline,
                              "--count", str(args.count), "--out", anchors])
                e["anchors"] = a["anchors"]
                e["fit"] = a["fit"]
                save(points)
            for ratio in [float(r) for r in args.ratios.split(",")]:
                name = f"{ratio:.3f}"
                if name in e.get("sweep", {}):
                    continue
                alloc = os.path.join(WORK, f"{model}_{pipeline}_{name}.json")
                al = run_json(["allocate", "--table", table, "--max-size-ratio", str(ratio), "--anchors", anchors,
                               "--out", alloc])
                ev = run_json(["evaluate", path, "--alloc", alloc, "--eval", "fmnist:test", "--pipeline", pipeline])
                e.setdefault("sweep", {})[name] = {
                    "size_ratio": al["size_ratio"], "load": al["degradation"],
                    "fit_drop": al["measured_fit"]["drop"], "uncertainty": al["measured_fit"]["uncertainty"],
                    "interpolated": al["measured_fit"]["interpolated"],
                    "loss_drop": ev.get("predicted_drop_from_loss"), "measured_drop": ev["drop"],
                    "top1": ev["quant_top1"], "fp32": ev["fp32_top1"]}
                save(points)


def render(points):
    text = ["## Predictions that rest on measurements", "",
            f"Regenerate: `/usr/bin/python3 tools/results/predictions.py` (resumable); {machine_line()}. "
            "`ptq anchors` measures five allocations along the frontier between 0.08 and 0.25 of the FP32 weight "
            "size with the pipeline; `ptq allocate --anchors` then predicts every other budget from them "
            "(core/alloc/prediction.h: between anchors their monotone drops interpolated in the square root of the "
            "summed ΔL, beyond them a fitted offset, slope and compounding), ± one standard deviation; "
            "`ptq evaluate --alloc` measures it on the 10k test images. *through ΔL* is the table's own "
            "prediction (no measurement). Budgets of the sweep are not the anchors' budgets.", ""]
    for key in sorted(points):
        model, pipeline = key.split("/")
        e = points[key]
        if not e.get("sweep"):
            continue
        text.append(f"### {TITLES[model]}, {pipeline} pipeline")
        text.append("")
        text.append("Anchors (size of FP32: measured drop): " + ", ".join(
            f"{a['size_ratio']:.3f}: {a['drop']:.2f}" for a in sorted(e["anchors"], key=lambda a: a["size_ratio"]))
            + f". {e['fit']}.")
        text.append("")
        text.append("| budget | Σ ΔL | predicted drop (measured fit) | through ΔL | measured drop | miss (fit) | "
                    "miss (through ΔL) |")
        text.append("|---:|---:|---:|---:|---:|---:|---:|")
        misses = []
        for name in sorted(e["sweep"]):
            s = e["sweep"][name]
            miss = abs(s["measured_drop"] - s["fit_drop"])
            misses.append(miss)
            loss = s.get("loss_drop")
            loss_miss = "–" if loss is None else f"{abs(s['measured_drop'] - loss):.2f}"
            text.append(f"| {name} | {s['load']:.5f} | {s['fit_drop']:.2f} ± {s['uncertainty']:.2f}"
                        f"{'' if s['interpolated'] else ' (beyond)'} | {'–' if loss is None else f'{loss:.2f}'} | "
                        f"{s['measured_drop']:.2f} | {miss:.2f} | "
                        f"{loss_miss} |")
        within = sum(1 for m in misses if m <= 0.3)
        text.append("")
        text.append(f"{within} of {len(misses)} budgets within 0.3 pt of the measured drop; the worst miss "
                    f"{max(misses):.2f} pt.")
        text.append("")
    replace_section("predictions", "\n".join(text))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="resnet20")
    p.add_argument("--pipelines", default="light,advanced")
    p.add_argument("--ratios", default="0.085,0.09,0.10,0.12,0.14,0.16,0.20")
    p.add_argument("--count", type=int, default=5)
    resumable_main(p, POINTS, measure, render)


if __name__ == "__main__":
    main()
