#!/usr/bin/python3
"""Regenerates the 'pareto-multipoint' section of docs/RESULTS.md: the integer program's exact
Pareto frontier of weight size against predicted degradation, with and without multipoint
options, on both demo models, and allocations at a few size budgets measured on the test set.

    /usr/bin/python3 tools/results/multipoint_pareto.py        (or: make results)

About 20 minutes on 2 cores (two sensitivity tables, eight evaluations).
"""
import os
import sys

from common import MODELS, ROOT, machine_line, replace_section, run_json

SINGLE = ["w2a8", "w3a8", "w4a8", "w6a8", "w8a8"]
MULTI = ["w2x2a8", "w3x2a8", "w4x2a8"]
CALIB = "fmnist:train:1000"
RATIOS = [0.08, 0.10, 0.13, 0.16, 0.20, 0.25]
MEASURED = [0.10, 0.16]
WORK = os.path.join(ROOT, "build", "results", "pareto_multipoint")


def best_at(points, ratio):
    """The frontier point of least degradation whose cost is within the ratio (None if none)."""
    fit = [p for p in points if p["cost_ratio"] <= ratio + 1e-12]
    return min(fit, key=lambda p: p["degradation"]) if fit else None


def main():
    os.makedirs(WORK, exist_ok=True)
    out = [
        "## Pareto frontier with and without multipoint options",
        "",
        "Regenerate with `/usr/bin/python3 tools/results/multipoint_pareto.py` (or `make results`); measured "
        f"on {machine_line()}. One sensitivity table per model on {CALIB} (per-channel weights, min-max) "
        f"over the options {', '.join(SINGLE + MULTI)}; `ptq pareto --table T --json` gives the exact frontier "
        f"of weight size (of FP32) against Σ ΔL, once over every option and once with `--exclude "
        f"{','.join(MULTI)}`. A multipoint option costs every point: w4x2a8 stores 8 bits per weight. "
        "Below, the least predicted Σ ΔL within each size budget, and at two budgets the allocation "
        "(`ptq allocate`) measured on the 10,000 test images (`ptq evaluate`, no tuning).",
        "",
    ]
    for model, path in MODELS.items():
        print(model, file=sys.stderr)
        key = os.path.splitext(os.path.basename(path))[0]
        table = os.path.join(WORK, f"{key}_table.json")
        s = run_json(["sensitivity", path, "--calib", CALIB, "--options", ",".join(SINGLE + MULTI), "--out", table])
        with_mp = run_json(["pareto", "--table", table])
        without = run_json(["pareto", "--table", table, "--exclude", ",".join(MULTI)])
        out += [f"### {model} (FP32 {s['fp32_top1']:.2f} % on the table's images; frontier "
                f"{len(with_mp['points'])} points with multipoint, {len(without['points'])} without)", "",
                "| size budget (of FP32) | Σ ΔL without multipoint | Σ ΔL with multipoint | layers on a multipoint option |",
                "|---:|---:|---:|---:|"]
        for r in RATIOS:
            a, b = best_at(without["points"], r), best_at(with_mp["points"], r)
            fmt = lambda p: f"{p['degradation']:.4f}" if p else "infeasible"
            multi = sum(1 for o in b["options"] if "x" in o) if b else 0
            out.append(f"| {r:.2f} | {fmt(a)} | {fmt(b)} | {multi} |")
        out += ["", "| size budget | top-1 without multipoint | top-1 with multipoint |", "|---:|---:|---:|"]
        for r in MEASURED:
            cells = []
            for exclude in (True, False):
                alloc = os.path.join(WORK, f"{key}_{r:.2f}_{'single' if exclude else 'multi'}.json")
                args = ["allocate", "--table", table, "--max-size-ratio", str(r), "--out", alloc]
                if exclude:
                    args += ["--exclude", ",".join(MULTI)]
                run_json(args)
                e = run_json(["evaluate", path, "--alloc", alloc, "--eval", "fmnist:test"])
                cells.append(f"{e['quant_top1']:.2f} ({-e['drop']:+.2f})")
            out.append(f"| {r:.2f} | " + " | ".join(cells) + " |")
        out.append("")
    replace_section("pareto-multipoint", "\n".join(out))


if __name__ == "__main__":
    main()
