#!/usr/bin/python3
"""Regenerates the 'openmp-wait' section of docs/RESULTS.md: the wall time of two ptq commands
with OpenMP's idle threads spinning (OMP_WAIT_POLICY=ACTIVE) against sleeping (PASSIVE, what
ptq and ptq-studio choose when the variable is not set). Rounds alternate the two settings, so
both see the same load of the shared machine; medians and their ratio.

    /usr/bin/python3 tools/results/openmp_wait.py [--rounds 3]        (or: make results)

About 3 minutes on 2 cores.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

from common import MODELS, ROOT, machine_line, ptq_binary, replace_section

WORK = os.path.join(ROOT, "build", "results", "openmp_wait")
COMMANDS = {
    "distil MobileNetV2 (32 images, 10 steps)":
        ["distill", MODELS["MobileNetV2"], "--iters", "10", "--out", os.path.join(WORK, "distilled.pt")],
    "quantize ResNet-20 W4A8 (500 calibration, 5000 test images)":
        ["quantize", MODELS["ResNet-20"], "--calib", "fmnist:train:500", "--eval", "fmnist:test:5000", "--w", "4",
         "--a", "8", "--no-fp32"],
}


def wall(args, policy):
    env = dict(os.environ, OMP_WAIT_POLICY=policy)
    t0 = time.time()
    proc = subprocess.run([ptq_binary()] + args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"'ptq {' '.join(args)}' failed ({proc.returncode}): {proc.stderr.strip()}")
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    rows = []
    for name, cmd in COMMANDS.items():
        times = {"ACTIVE": [], "PASSIVE": []}
        for _ in range(args.rounds):
            for policy in times:
                times[policy].append(wall(cmd, policy))
                print(f"  {times[policy][-1]:6.2f} s  {policy:7s} {name}", file=sys.stderr, flush=True)
        active, passive = statistics.median(times["ACTIVE"]), statistics.median(times["PASSIVE"])
        rows.append(f"| {name} | {active:.2f} | {passive:.2f} | {active / passive:.2f} |")
    load = os.getloadavg()[0]
    text = "\n".join([
        "## OpenMP wait policy",
        "",
        f"Regenerate with `/usr/bin/python3 tools/results/openmp_wait.py` (or `make results`); {machine_line()}, "
        f"load average {load:.1f} at the end. Wall seconds, median of {args.rounds} alternating rounds. LibTorch's "
        "OpenMP threads spin between parallel regions by default (ACTIVE); on a machine that other work shares, "
        "the spinning threads take the cores the working ones wait for. `ptq` and `ptq-studio` therefore start "
        "with OMP_WAIT_POLICY=PASSIVE when the variable is not set (core/util/runtime.h, "
        "`preferPassiveOpenMpWait`); a user who sets it keeps their choice.",
        "",
        "| command | spinning (ACTIVE) | sleeping (PASSIVE) | ratio |",
        "|---|---:|---:|---:|",
        *rows,
    ])
    replace_section("openmp-wait", text)
    print(text)


if __name__ == "__main__":
    main()
