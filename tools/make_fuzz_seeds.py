#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (fuzz/corpus/<target>/): small valid files and
near-valid variants, so that libFuzzer starts from the formats' real structure.

    python3 tools/make_fuzz_seeds.py PTQ_EXECUTABLE

IDX seeds are cut from the installed Fashion-MNIST files; the JSON seeds (ptq-config,
sensitivity table, allocation) are written by the given `ptq` on the small model
tests/robustness/files/good_tiny.pt; the importer's seeds are the committed small models.
Run it again after a format changes and commit what it writes.
"""
import gzip
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
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print(f"{target}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
