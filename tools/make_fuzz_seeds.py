#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (fuzz/corpus/<target>/): small valid files and
near-valid variants, so that libFuzzer starts from the formats' real structure.

    python3 tools/make_fuzz_seeds.py PTQ_EXECUTABLE

IDX seeds are cut from the installed Fashion-MNIST files; the JSON seeds (ptq-config,
sensitivity table, allocation) are written by the given `ptq` on the small model
tests/robustness/files/good_tiny.pt; the importer's seeds are the committed small models.
Run it again after a format changes and commit what it writes.
"""
import base64
import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FILES = os.path.join(ROOT, "tests", "robustness", "files")
FASHION = "/usr/share/datasets/fashion-mnist"


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def idx_seeds():
    with gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")) as f:
        images = f.read(16 + 3 * 28 * 28)
    with gzip.open(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = f.read(8 + 3)
    images = images[:4] + struct.pack(">I", 3) + images[8:]  # a 3-image file
    labels = labels[:4] + struct.pack(">I", 3) + labels[8:]
    write("idx", "images3.idx", images)
    write("idx", "labels3.idx", labels)
    write("idx", "images3.idx.gz", gzip.compress(images, mtime=0))
    write("idx", "labels3.idx.gz", gzip.compress(labels, mtime=0))
    write("idx", "tiny4d.idx", b"\0\0\x08\x04" + struct.pack(">IIII", 2, 1, 2, 2) + bytes(range(8)))
    write("idx", "truncated.idx", images[:100])
    write("idx", "float.idx", images[:2] + b"\x0d" + images[3:40])


def ptq(exe, *args):
    subprocess.run([exe, *args], check=True, stdout=subprocess.DEVNULL)


def json_seeds(exe):
    model = os.path.join(FILES, "good_tiny.pt")
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "config.json")
        table = os.path.join(tmp, "table.json")
        alloc = os.path.join(tmp, "alloc.json")
        ptq(exe, "export", model, "--calib", "fmnist:train:32", "--format", "json", "-o", config)
        ptq(exe, "sensitivity", model, "--calib", "fmnist:train:32", "--options", "w4a8,w8a8", "--out", table)
        ptq(exe, "allocate", "--table", table, "--max-size-ratio", "0.2", "--out", alloc)
        for target, path in (("quant_config", config), ("sensitivity_table", table), ("allocation", alloc)):
            text = open(path).read()
            write(target, "valid.json", text)
            doc = json.loads(text)
            write(target, "compact.json", json.dumps(doc, separators=(",", ":")))
            write(target, "cut.json", text[: len(text) // 2])
            doc["version"] = 2
            write(target, "version2.json", json.dumps(doc))


def project_seeds():
    """A project over the small model: its table (the sensitivity seed), an allocation, a pin, a
    measured point and one AdaQuant result, by the layout of docs/project-format.md."""
    model = os.path.join(FILES, "good_tiny.pt")
    table = json.load(open(os.path.join(CORPUS, "sensitivity_table", "valid.json")))
    names = [l["name"] for l in table["layers"]]
    first = table["layers"][0]
    weight = base64.b64encode(bytes(4 * first["params"])).decode()  # 4x1x5x5 float zeros
    params = {"scale": [0.05] * 4, "zero_point": [0] * 4}
    project = {
        "format": "ptq-project", "version": 1,
        "model": {"path": "../../../tests/robustness/files/good_tiny.pt", "absolute_path": model,
                  "sha256": hashlib.sha256(open(model, "rb").read()).hexdigest()},
        "calibration": "fmnist:train:32", "evaluation": "fmnist:test:32",
        "sensitivity_request": {"options": ["w4a8", "w8a8"], "base": "w8a8", "granularity": "per-channel",
                                "weight_range": "minmax", "act_range": "minmax", "batch": 256,
                                "cache_bytes": 0},
        "budget": {"kind": "cost", "metric": "size", "reference": "fp32", "cost_ratio": 0.2,
                   "max_degradation": 0.1},
        "sensitivity": table,
        "allocation": {"choice": ["w4a8"] * len(names), "feasible": True, "status": "optimal",
                       "delta_loss": 0.01, "delta_top1": -0.5, "size_bytes": 1400, "bops": 1.0e6,
                       "solver_ms": 0.5},
        "pins": [{"layer": names[-1], "option": "w8a8"}],
        "measured": [{"choice": ["w8a8"] * len(names), "pipeline": "light", "evaluation": "fmnist:test:32",
                      "top1": 60.0, "fp32_top1": 61.0, "loss": 1.2, "predicted_delta_top1": -0.4,
                      "size_bytes": 2700, "bops": 2.0e6, "seconds": 1.5}],
        "adaquant": [{"layer": names[0], "w_bits": 4, "a_bits": 8, "weight_shape": [4, 1, 5, 5],
                      "weight": weight, "bias": base64.b64encode(bytes(16)).decode(), "weight_params": params, "activation_params":
                      {"scale": [0.1], "zero_point": [0]}, "mse_before": 0.2, "mse_after": 0.1,
                      "applied": True, "relu_in_loss": True, "iterations": 10, "samples": 32,
                      "seconds": 0.5, "macs_per_sample": first["macs"]}],
    }
    text = json.dumps(project, indent=1)
    write("project", "valid.ptqproj", text)
    minimal = {k: v for k, v in project.items() if k not in ("sensitivity", "allocation", "adaquant")}
    minimal["pins"], minimal["measured"] = [], []
    write("project", "no_table.ptqproj", json.dumps(minimal))
    write("project", "cut.ptqproj", text[: len(text) // 2])


def importer_seeds():
    for name in ("good_tiny.pt", "zip_without_model.pt", "state_dict.pt", "two_inputs.pt"):
        shutil.copy(os.path.join(FILES, name), os.path.join(CORPUS, "importer", name))
    data = open(os.path.join(FILES, "good_tiny.pt"), "rb").read()
    write("importer", "good_tiny_cut.pt", data[: len(data) * 9 // 10])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(os.path.join(CORPUS, "importer"), exist_ok=True)
    idx_seeds()
    json_seeds(os.path.abspath(sys.argv[1]))
    importer_seeds()
    project_seeds()
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print(f"{target}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
