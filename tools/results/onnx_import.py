#!/usr/bin/python3
"""Regenerates the 'onnx-import' section of docs/RESULTS.md: torchvision's CNN zoo written by
torch.onnx.export (Debian's python3-torch, tools/make_onnx_zoo.py, 224 x 224, random weights) and
the demo models' `ptq export --format onnx-fp32` files, imported by PTQ Studio and run against ONNX
Runtime on the same batch (`ptq graph FILE --verify`), with the import's time (`ptq bench import`).

    /usr/bin/python3 tools/results/onnx_import.py        (or: make results)

About five minutes on 2 cores; the zoo (about 2 GB) is written to build/results-onnx-zoo.
"""
import os
import subprocess
import sys

from common import MODELS, ROOT, machine_line, replace_section, run_json

ZOO_DIR = os.path.join(ROOT, "build", "results-onnx-zoo")
OPSETS = "11,13,17"
THREE = "resnet18,mobilenet_v2,efficientnet_b0"
MORE = ("mobilenet_v3_small,shufflenet_v2_x0_5,squeezenet1_1,densenet121,googlenet,mnasnet0_5,"
        "regnet_x_400mf,alexnet,vgg11,convnext_tiny")
DEMOS = dict(MODELS, ViT=os.path.join(ROOT, "resources", "models", "vit_fmnist.pt"))


def make_zoo():
    if os.path.exists(os.path.join(ZOO_DIR, "convnext_tiny_op13.onnx")):
        return
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "tools", "make_onnx_zoo.py"), ZOO_DIR, "--models", THREE,
           "--opsets", OPSETS, "--more", MORE]
    print("  writing the zoo: " + " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(path):
    g = run_json(["graph", path, "--verify", "--batch", "4"])
    b = run_json(["bench", "import", path, "--runs", "3"])
    v = g["verify"]
    return {
        "nodes": g["node_count"], "layers": g["quantizable_layers"], "rel": v["max_relative_diff"],
        "abs": v["max_absolute_diff"], "import_ms": b["in_process_median_ms"], "helper_ms": b["helper_median_ms"],
        "params": b["parameters"],
    }


def row(label, opset, m):
    return (f"| {label} | {opset} | {m['nodes']} | {m['layers']} | {m['params'] / 1e6:.2f} M | {m['rel']:.1e} | "
            f"{m['abs']:.1e} | {m['import_ms']:.0f} | {m['helper_ms']:.0f} |")


def main():
    make_zoo()
    rows = []
    for name in THREE.split(","):
        for opset in OPSETS.split(","):
            rows.append(row(name, opset, measure(os.path.join(ZOO_DIR, f"{name}_op{opset}.onnx"))))
        rows.append(row(name, OPSETS.split(",")[-1] + ", dynamic batch",
                        measure(os.path.join(ZOO_DIR, f"{name}_op{OPSETS.split(',')[-1]}_dyn.onnx"))))
    for name in MORE.split(","):
        rows.append(row(name, "13", measure(os.path.join(ZOO_DIR, f"{name}_op13.onnx"))))
    rows.append(row("small, external data", "13", measure(os.path.join(ZOO_DIR, "small_ext.onnx"))))
    demo_rows = []
    for label, pt in DEMOS.items():
        out = os.path.join(ZOO_DIR, f"demo_{os.path.basename(pt)[:-3]}.onnx")
        run_json(["export", pt, "--format", "onnx-fp32", "-o", out])
        demo_rows.append(row(f"demo {label} (onnx-fp32 export)", "13", measure(out)))

    head = ("| model | opset | IR nodes | layers | parameters | largest relative difference | largest absolute "
            "difference | import, ms (median of 3) | through the helper, ms |\n|---|---|---:|---:|---:|---:|---:|---:|---:|")
    text = f"""## ONNX import: torchvision's zoo and the app's own exports, against ONNX Runtime

Regenerate: `/usr/bin/python3 tools/results/onnx_import.py` ({machine_line()}; ONNX Runtime from npm's
onnxruntime-node). torchvision's models with random weights in eval mode, written by Debian's python3-torch
1.13 `torch.onnx.export` at 1 x 3 x 224 x 224 (`tools/make_onnx_zoo.py`); the demo models' files by `ptq export
--format onnx-fp32`. Each file is imported (`ptq graph FILE --verify --batch 4`: the executor on the imported
graph against ONNX Runtime on the file, one seeded normal batch of 4; the relative difference is the largest
|a - b| over the largest |b|) and timed (`ptq bench import FILE --runs 3`: the import in the process, and through
the import helper, which adds the process start, LibTorch's start and the graph sent back). BatchNorms were
folded by the exporter; the IR counts exclude folded constants.

{head}
""" + "\n".join(rows + demo_rows) + """

test_onnx_import checks the same at 112 x 112 on every `make test` (resnet18, mobilenet_v2, efficientnet_b0 at
opsets 11, 13, 17 and with a dynamic batch; seven more at 13; the demo models' and three torchvision models'
onnx-fp32 exports read back with the same layer names as their TorchScript source, and ONNX Runtime on those
exports against the executor on the source).
"""
    replace_section("onnx-import", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
