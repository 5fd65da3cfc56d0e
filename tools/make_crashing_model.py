#!/usr/bin/python3
"""Write a crafted TorchScript file that crashes LibTorch's TorchScript reader, for the tests.

    /usr/bin/python3 tools/make_crashing_model.py SOURCE.pt OUT.pt [--check]

SOURCE.pt is a small valid TorchScript model (tests/robustness/files/good_tiny.pt). The copy
gets a class constant in the code of its BatchNorm module whose value is 200,000 nested
parentheses; LibTorch's recursive-descent parser runs out of stack on it and the process dies
with SIGSEGV. The zip is rewritten with Python's zipfile, so every entry's CRC-32 and size match
and the importer's container checks (core/graph/zip_check.*, pickle_scan.*) pass it: only
running the reader in a child process (core/graph/import_process.h) keeps the program alive.
A sidecar OUT.json gives the input shape 1x28x28.

--check loads OUT.pt with torch.jit.load in a subprocess and fails unless that process is
killed by a signal, so a LibTorch that stops crashing on the file is noticed.
"""
import json
import os
import subprocess
import sys
import zipfile

DEPTH = 200_000


def craft(source, out):
    changed = False
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("code/__torch__/torch/nn/modules/batchnorm.py"):
                constant = b"  crafted : Final[int] = " + b"(" * DEPTH + b"1" + b")" * DEPTH + b"\n"
                data = data.replace(b"  def forward(", constant + b"  def forward(", 1)
                changed = True
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.compress_type = info.compress_type
            zout.writestr(copy, data)
    if not changed:
        raise SystemExit(f"{source} has no BatchNorm module code to change")
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump({"name": "crashing_reader", "input_shape": [1, 28, 28]}, f)


def check(out):
    proc = subprocess.run([sys.executable, "-c", "import sys, torch; torch.jit.load(sys.argv[1])", out],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if proc.returncode >= 0:
        raise SystemExit(f"torch.jit.load({out}) ended with exit code {proc.returncode}, not a signal")
    print(f"torch.jit.load({out}) was killed by signal {-proc.returncode}")


def main():
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 2:
        raise SystemExit(__doc__)
    os.makedirs(os.path.dirname(os.path.abspath(args[1])), exist_ok=True)
    craft(args[0], args[1])
    if "--check" in sys.argv:
        check(args[1])
    print(args[1])


if __name__ == "__main__":
    main()
