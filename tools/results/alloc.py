#!/usr/bin/python3
"""Regenerates the 'alloc' section of docs/RESULTS.md: mixed-precision allocations by the
integer program (ptq allocate) over a sweep of weight-size budgets, predicted against measured
top-1 (ptq evaluate), and the solver benchmark (ptq bench ip).

    /usr/bin/python3 tools/results/alloc.py [--models resnet20,mobilenetv2]
        [--pipelines light,advanced] [--ratios 0.13,0.145,...] [--advanced-ratios 0.13,0.16,0.2,0.25]
        [--no-bench] [--only-section]

Each measured point is kept in build/results/alloc/points.json, so an interrupted run resumes
where it stopped and --only-section re-renders the section from what is there. Long: a light
point takes about a minute on 2 cores, an advanced one five (ResNet-20).
"""
import argparse
import json
import os
import sys

from common import MODELS, ROOT, machine_line, replace_section, run_json

KEYS = {"resnet20": "ResNet-20", "mobilenetv2": "MobileNetV2"}
RATIOS = [0.13, 0.145, 0.16, 0.18, 0.20, 0.22, 0.25]
OPTIONS = "w2a8,w3a8,w4a8,w5a8,w6a8,w8a8"
CALIB = "fmnist:train:2000"
WORK = os.path.join(ROOT, "build", "results", "alloc")
POINTS = os.path.join(WORK, "points.json")


def load_points():
    """Every points file in WORK, merged (one a concurrent run: --points)."""
    points = {}
    for name in sorted(os.listdir(WORK)) if os.path.isdir(WORK) else []:
        if name.startswith("points") and name.endswith(".json"):
            with open(os.path.join(WORK, name), encoding="utf-8") as f:
                for key, value in json.load(f).items():
                    if isinstance(value, dict):
                        points.setdefault(key, {}).update(value)
                    else:
                        points[key] = value
    return points


def save_points(points, keys):
    """Writes this run's own entries (@p keys) to its points file."""
    os.makedirs(WORK, exist_ok=True)
    with open(POINTS + ".tmp", "w", encoding="utf-8") as f:
        json.dump({k: v for k, v in points.items() if k in keys}, f, indent=1, sort_keys=True)
    os.replace(POINTS + ".tmp", POINTS)


def measure(args, points):
    os.makedirs(WORK, exist_ok=True)
    models = [m for m in args.models.split(",") if m and m != "none"]
    own = set(models) | ({"bench_ip", "bench_ip_extra"} if args.bench else set())

    def save_points_(p):
        save_points(p, own)

    for key in models:
        path = MODELS[KEYS[key]]
        table = os.path.join(WORK, f"{key}_table.json")
        sens = run_json(["sensitivity", path, "--calib", CALIB, "--options", OPTIONS, "--out", table])
        points.setdefault(key, {})["table"] = {k: sens[k] for k in
                                               ("samples", "seconds", "fp32_top1", "base_top1", "reused")}
        save_points_(points)
        table_aq = None
        if "advanced" in args.pipelines.split(","):
            # The advanced pipeline tunes every layer with AdaQuant: its allocation is predicted
            # from a table whose cells were measured with the AdaQuant parameters of each option.
            table_aq = os.path.join(WORK, f"{key}_table_adaquant.json")
            sens = run_json(["sensitivity", path, "--calib", CALIB, "--options", OPTIONS, "--adaquant", "--out",
                             table_aq])
            points[key]["table_adaquant"] = {k: sens.get(k) for k in
                                             ("samples", "seconds", "fp32_top1", "base_top1", "reused", "adaquant")}
            save_points_(points)
        for ratio in args.ratios:
            name = f"{ratio:.3f}"
            alloc = os.path.join(WORK, f"{key}_{name}.json")
            a = run_json(["allocate", "--table", table, "--max-size-ratio", str(ratio), "--out", alloc])
            entry = points[key].setdefault(name, {})
            entry["allocate"] = {k: a.get(k) for k in ("size_ratio", "bops_ratio", "degradation", "solve_ms",
                                                   "predicted_delta_top1", "top1_per_loss", "fp32_top1",
                                                   "predicted_top1_from_loss")}
            entry["bits"] = [l["option"] for l in a["layers"]]
            save_points_(points)
            for pipeline in args.pipelines.split(","):
                if pipeline == "advanced" and ratio not in args.advanced_ratios:
                    continue
                palloc, pa = alloc, a
                if pipeline == "advanced":
                    palloc = os.path.join(WORK, f"{key}_{name}_adaquant.json")
                    pa = run_json(["allocate", "--table", table_aq, "--max-size-ratio", str(ratio), "--out", palloc])
                    entry["advanced_allocate"] = {k: pa.get(k) for k in ("size_ratio", "bops_ratio", "degradation",
                                                                     "solve_ms", "predicted_delta_top1", "top1_per_loss",
                                                                     "fp32_top1", "predicted_top1_from_loss")}
                    entry["advanced_bits"] = [l["option"] for l in pa["layers"]]
                    save_points_(points)
                if pipeline in entry and entry[pipeline].get("alloc_degradation") == pa["degradation"] and \
                        entry[pipeline].get("table", "plain") == ("adaquant" if pipeline == "advanced" else "plain"):
                    continue  # measured already for this allocation
                e = run_json(["evaluate", path, "--alloc", palloc, "--eval", "fmnist:test", "--pipeline", pipeline])
                entry[pipeline] = {k: e.get(k) for k in ("fp32_top1", "quant_top1", "drop", "predicted_drop",
                                                     "predicted_top1", "predicted_drop_from_loss",
                                                     "predicted_top1_from_loss", "tune_seconds")}
                entry[pipeline]["alloc_degradation"] = pa["degradation"]
                entry[pipeline]["table"] = "adaquant" if pipeline == "advanced" else "plain"
                save_points_(points)
    if args.bench:
        points["bench_ip"] = run_json(["bench", "ip", "--one-shot-positions", "10", "--one-shot-limit", "10"])
        save_points_(points)
        extra = []
        for seed in (2, 3, 4):
            b = run_json(["bench", "ip", "--sizes", "54x9,500x9", "--seed", str(seed), "--tables", "none"])
            for i, row in enumerate(b["rows"]):
                extra.append(dict(row, seed=seed + i))
        points["bench_ip_extra"] = extra
        save_points_(points)


def bits_summary(options):
    counts = {}
    for o in options:
        w = o[1:o.index("a")]
        counts[w] = counts.get(w, 0) + 1
    return " ".join(f"{counts[w]}×{w}" for w in sorted(counts, key=lambda w: -int(w.split("x")[0])))


def add_loss_prediction(e):
    """The prediction through the loss for each measured pipeline of point @p e, from its
    allocation (the table's FP32 top-1 minus the allocation's predicted top-1 from the loss is
    the predicted drop, carried over to the measured FP32 as ptq evaluate does)."""
    for pipeline, alloc_key in (("light", "allocate"), ("advanced", "advanced_allocate")):
        r, a = e.get(pipeline), e.get(alloc_key) or e.get("allocate")
        if not r or not a or a.get("predicted_top1_from_loss") is None:
            continue
        r["predicted_drop_from_loss"] = a["fp32_top1"] - a["predicted_top1_from_loss"]
        r["predicted_top1_from_loss"] = r["fp32_top1"] - r["predicted_drop_from_loss"]


def render(points):
    parts = []
    for key, title in KEYS.items():
        if key not in points:
            continue
        m = points[key]
        t = m.get("table", {})
        rows = []
        for name in sorted(k for k in m if not k.startswith("table")):
            e = m[name]
            add_loss_prediction(e)
            light, adv = e.get("light"), e.get("advanced")
            ref = light or adv
            if not ref:
                continue
            bits = bits_summary(e["bits"])
            if adv and adv.get("table") == "adaquant" and e.get("advanced_bits") and e["advanced_bits"] != e["bits"]:
                bits += f" (adv.: {bits_summary(e['advanced_bits'])})"
            cells = [f"{float(name):.3f}", f"{e['allocate']['size_ratio']:.4f}", bits,
                     f"{e['allocate']['degradation']:.4f}", f"{ref['predicted_top1_from_loss']:.2f}",
                     f"{ref['predicted_top1']:.2f}"]
            for r in (light, adv):
                cells.append(f"{r['quant_top1']:.2f} ({-r['drop']:+.2f})" if r else "–")
            for key in ("predicted_drop_from_loss", "predicted_drop"):
                err = [abs(r["drop"] - r[key]) for r in (light, adv) if r]
                cells.append(" / ".join(f"{x:.2f}" for x in err))
            rows.append("| " + " | ".join(cells) + " |")
        fp32 = next((m[k]["light"]["fp32_top1"] for k in m if not k.startswith("table") and "light" in m[k]), None)
        head = ("| budget (of FP32) | allocated | layers × weight bits | Σ ΔL | predicted top-1 through ΔL | "
                "predicted top-1 from Σ Δtop-1 | light top-1 (vs FP32) | advanced top-1 (vs FP32) | "
                "abs(measured − predicted drop) through ΔL, light / adv. | the same from Σ Δtop-1 |")
        rule = "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
        fp = f"FP32 {fp32:.2f} %" if fp32 is not None else ""
        slope = next((m[k]["allocate"].get("top1_per_loss") for k in m if not k.startswith("table")), None)
        parts.append(f"### {title} ({fp}; table on {t.get('samples', '?')} images, base W8A8 "
                     f"{t.get('base_top1', 0):.2f} % on them, measured in {t.get('seconds', 0):.0f} s" +
                     (f"; {slope:.1f} pt of top-1 a unit of ΔL, fitted over its cells" if slope else "") + ")\n\n" +
                     "\n".join([head, rule] + rows))
    notes = []
    r20 = points.get("resnet20", {}).get("0.160", {})
    if "light" in r20:
        adv = r20.get("advanced")
        notes.append(f"- At 0.16 of the FP32 weight size ResNet-20 is {-r20['light']['drop']:+.2f} pt from FP32 with "
                     f"the light pipeline" + (f" and {-adv['drop']:+.2f} pt with the advanced one" if adv else "") +
                     " (target: no more than 1.0 pt below).")
    for m in points.values():
        if isinstance(m, dict):
            for n, e in m.items():
                if not n.startswith("table") and isinstance(e, dict):
                    add_loss_prediction(e)
    for key, how in (("predicted_drop_from_loss", "through ΔL"), ("predicted_drop", "from Σ Δtop-1")):
        for pipeline in ("light", "advanced"):
            errs = [(abs(e[pipeline]["drop"] - e[pipeline][key]), KEYS[k], n)
                    for k in KEYS if k in points for n, e in points[k].items()
                    if not n.startswith("table") and pipeline in e]
            if errs:
                worst = max(errs)
                within = sum(1 for e in errs if e[0] <= 0.5)
                notes.append(f"- Predicted ({how}) vs measured drop, {pipeline}: {within} of {len(errs)} points within "
                             f"0.5 pt; the worst {worst[0]:.2f} pt ({worst[1]} at {float(worst[2]):.3f}).")
    adaquant_rows = any(e.get("advanced", {}).get("table") == "adaquant"
                        for k in KEYS if k in points for n, e in points[k].items() if not n.startswith("table"))
    if notes:
        parts.append("### Reading\n\n" + "\n".join(notes) + "\n- " + (
                     "The light rows allocate from the plain table (each layer quantized alone, untuned); the "
                     "advanced rows from a table measured with each layer's AdaQuant parameters at each option "
                     "(`ptq sensitivity --adaquant`), allocated and predicted on their own (bits in parentheses "
                     "where they differ)." if adaquant_rows else
                     "The table measures each layer quantized alone "
                     "without tuning, so it predicts the light pipeline; AdaQuant and bias tuning recover more than "
                     "it predicts.") + " Two predictions of the same allocation. *Through ΔL*: the loss the allocation adds over FP32 "
                     "on the table's images (the W8A8 base's, plus the summed degradation the integer program "
                     "minimised) times the table's fitted top-1 per unit of loss (least squares through the origin "
                     "of Δtop-1 on ΔL over all its cells, `top1PerLoss`). *From Σ Δtop-1*: the base's top-1 drop "
                     "on the table's images plus the layers' own measured top-1 changes, each a count of a few "
                     "flipped images among 2000 (steps of 0.05 pt), so the sum over 22–35 layers is noisy by "
                     "several tenths of a point. A loss averages over every image, which is why the first is "
                     "the steadier; `ptq allocate` and `ptq evaluate` print both. Both miss most at the tightest "
                     "budgets, where the program places many layers at options whose measured ΔL on 2000 images is "
                     "within noise of zero (negative ones count as zero): the table sees almost no added loss, the "
                     "test set a few tenths of a point.")
    bench = points.get("bench_ip")
    if bench:
        def ms(r, key):
            n = r.get("one_shot_positions", 0) - r.get("one_shot_timeouts", 0)
            return f"{r[key]:.2f}" if n > 0 else "–"

        def cbc(r):
            if not r.get("cbc_runs"):
                return "– | –"
            verdict = ", ".join(f"{r[k]} {w}" for k, w in (("cbc_better", "better"), ("cbc_worse", "worse"),
                                                          ("cbc_failures", "failed")) if r.get(k))
            return f"{r['cbc_p50_ms']:.1f} / {r['cbc_max_ms']:.1f} | {verdict or 'same'}"

        rows = [f"| {r.get('instance', 'random')} {r['layers']}×{r['options']} | {r['columns_pruned']} / "
                f"{r['columns_full']} | {r['live_p50_ms']:.2f} | {r['live_p99_ms']:.2f} | {r['live_max_ms']:.2f} | "
                f"{ms(r, 'one_shot_p50_ms')} | {ms(r, 'one_shot_p99_ms')} | {ms(r, 'one_shot_max_ms')} | "
                f"{'yes' if r['mismatches'] == 0 else 'NO'}"
                f"{(', %d of %d stopped' % (r['one_shot_timeouts'], r['one_shot_positions'])) if r.get('one_shot_timeouts') else ''}"
                f" | {cbc(r)} |" for r in bench["rows"]]
        p = bench["pareto"]
        parts.append("### Solver speed (`ptq bench ip`)\n\n`ptq bench ip --one-shot-positions 10 --one-shot-limit 10` "
                     f"(seed {bench.get('seed', 1)}). Minimum summed degradation under a weight-size budget swept "
                     "over 100 slider positions from just below the smallest reachable size to the largest; "
                     "milliseconds per re-solve. Instances: synthetic tables (seeded), and the demo models' "
                     "measured tables (bench/tables/, 256 calibration images) repeated 1, 3 and 10 times with every "
                     "cell's ΔL scaled by its own factor in [0.5, 1.5], then clamped and tie-broken as `ptq "
                     "allocate` does (clamped zeros, near-equal columns: where branch and bound struggles). *live*: "
                     "one `Allocator` kept across the sweep; *one-shot*: the full lp (nothing pruned) built and "
                     "solved by lp_solve at 10 evenly spread positions, each stopped after 10 s, and compared with "
                     "the live answer; *CBC*: CBC on the same lp (MPS with 17 digits, zero gaps, one thread) from "
                     "scratch at the same positions, process start included; *worse*: CBC's answer has a larger "
                     "summed degradation than the live optimum (CBC stops within its own tolerances).\n\n"
                     "| instance | binaries live / full | live p50 | p99 | max | one-shot p50 | p99 | max "
                     "| same optima | CBC p50 / max | CBC vs live |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|\n"
                     + "\n".join(rows) +
                     f"\n\nExact Pareto frontier at {p['layers']}×{p['options']}: size {p['size_ms']:.1f} ms "
                     f"({p['size_points']} points), BOPs {p['bops_ms']:.1f} ms ({p['bops_points']} points).")
        extra = points.get("bench_ip_extra")
        if extra:
            seeds = sorted({r["seed"] - (1 if r["layers"] == 500 else 0) for r in extra})
            lines = []
            for seed in seeds:
                small = next(r for r in extra if r["layers"] == 54 and r["seed"] == seed)
                big = next(r for r in extra if r["layers"] == 500 and r["seed"] == seed + 1)
                same = all(r["mismatches"] == 0 for r in (small, big))
                lines.append(f"| {seed} | {small['live_p99_ms']:.2f} / {small['live_max_ms']:.2f} | "
                             f"{small['one_shot_p99_ms']:.2f} | {big['live_p99_ms']:.2f} / {big['live_max_ms']:.2f} | "
                             f"{big['one_shot_p99_ms']:.2f} | {'yes' if same else 'NO'} |")
            parts[-1] += ("\n\nOther synthetic instances (`ptq bench ip --sizes 54x9,500x9 --seed S`; the size at "
                          "position i of the list uses seed S + i), live p99 / max against one-shot p99, ms:\n\n"
                          "| seed S | 54×9 live p99 / max | one-shot p99 | 500×9 live p99 / max | one-shot p99 | "
                          "same optima |\n|---|---:|---:|---:|---:|---|\n" + "\n".join(lines))
        parts[-1] += ("\n\nWith one budget row (every slider budget) the live solve ends in an exact dynamic "
                      "programme (core/alloc/one_row.h) over the columns the Lagrangian fixing leaves open: lists "
                      "of undominated partial sums (budget used, degradation), each pruned by the Lagrangian bound "
                      "of the layers still to come at the best of about 50 prices against the warm start's "
                      "incumbent. Branch and bound is what made real tables slow: on the demo tables repeated ten "
                      "times the objective at most budgets is made of tie-breaks near 1e-9 of the largest cell, "
                      "where lp_solve's bound prunes almost nothing (`ptq allocate` on the 220-layer ResNet-20 "
                      "instance at size ratios 0.14, 0.16 and 0.20: 10.3 s, over 120 s and 30.8 s before; 4.0, 4.1 "
                      "and 4.3 ms now). lp_solve still answers budgets of two or more rows, where such tables stay "
                      "slow (a size and a BOPs budget together on the 220-layer instance: minutes; a live slider "
                      "shows the best allocation after 50 ms and proves it in the background). "
                      "`tests/alloc/test_solver.cpp` holds the live solver to brute force on 15,000 random small "
                      "problems and to the plain lp on the demo tables repeated 1 and 2 times (76 budgets).")

    text = f"""## Mixed precision: the integer program and the Pareto frontier

Regenerate: `/usr/bin/python3 tools/results/alloc.py` (resumable; points in
build/results/alloc/points.json); measured on {machine_line()}. For each model,
`ptq sensitivity MODEL --calib {CALIB} --options {OPTIONS} --out TABLE` measures ΔL (cross-entropy
increase) and Δtop-1 of every layer at every option with all other layers at W8A8; `ptq allocate
--table TABLE --max-size-ratio R` picks the option per layer minimising Σ ΔL under the weight-size
budget (ratio of the FP32 weights; activations stay 8-bit, they do not change the size);
`ptq evaluate MODEL --alloc A --eval fmnist:test --pipeline light|advanced` measures it on the
10,000 test images. Each *predicted top-1* is the measured FP32 top-1 minus the table's predicted
drop (FP32 − W8A8 on the table's images, then the allocation's predicted change on top; see
Reading for the two predictions). Weights per channel, min-max ranges; negative measured ΔL
count as 0.

""" + "\n\n".join(parts)
    replace_section("alloc", text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="resnet20,mobilenetv2", help="comma-separated, or none (the bench only)")
    ap.add_argument("--pipelines", default="light,advanced")
    ap.add_argument("--ratios", default=",".join(str(r) for r in RATIOS),
                    type=lambda s: [float(x) for x in s.split(",")])
    ap.add_argument("--advanced-ratios", default="0.13,0.16,0.2,0.25",
                    type=lambda s: [float(x) for x in s.split(",")])
    ap.add_argument("--no-bench", dest="bench", action="store_false")
    ap.add_argument("--only-section", action="store_true")
    ap.add_argument("--points", default="points.json",
                    help="file name in build/results/alloc for this run's points (concurrent runs use their own)")
    args = ap.parse_args()
    global POINTS
    POINTS = os.path.join(WORK, args.points)
    points = load_points()
    if not args.only_section:
        measure(args, points)
    render(points)


if __name__ == "__main__":
    main()
