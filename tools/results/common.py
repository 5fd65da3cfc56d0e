"""Shared helpers of the scripts that regenerate docs/RESULTS.md.

Each script runs the built `ptq` binary with --json, turns the figures into a Markdown section
and replaces only its own part of docs/RESULTS.md: the lines between `<!-- NAME:begin -->` and
`<!-- NAME:end -->` (appended at the end when the markers are absent).
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, "docs", "RESULTS.md")
MODELS = {
    "ResNet-20": os.path.join(ROOT, "resources", "models", "resnet20_fmnist.pt"),
    "MobileNetV2": os.path.join(ROOT, "resources", "models", "mobilenetv2_fmnist.pt"),
}


def ptq_binary():
    path = os.environ.get("PTQ", os.path.join(ROOT, "build", "app", "ptq"))
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} is not built: run 'make' first (or set PTQ=/path/to/ptq).")
    return path


def run_json(args):
    """Runs `ptq ARGS --json` and returns the parsed object; exits with ptq's message on failure."""
    cmd = [ptq_binary()] + args + ["--json"]
    env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"'{' '.join(cmd)}' failed ({proc.returncode}): {proc.stderr.strip()}")
    print(f"  {time.time() - t0:5.1f} s  ptq {' '.join(args)}", file=sys.stderr, flush=True)
    return json.loads(proc.stdout)


def replace_section(name, text):
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    with open(RESULTS, encoding="utf-8") as f:
        doc = f.read()
    block = f"{begin}\n{text.rstrip()}\n{end}"
    if begin in doc and end in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write(doc)
    print(f"updated the '{name}' section of {os.path.relpath(RESULTS, ROOT)}", file=sys.stderr)


def machine_line():
    cores = os.cpu_count()
    return f"{cores} cores, {time.strftime('%Y-%m-%d')}"


def load_points(path):
    """The points a resumable results script kept in @p path ({} when there are none yet)."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return {}


def save_points(path, points):
    """Writes @p points to @p path atomically (a stopped run keeps what it measured)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(points, f, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


def resumable_main(parser, points_path, measure, render):
    """The main() of a resumable results script: adds --only-section to @p parser (render the
    section from the points already kept, measure nothing), parses the command line, measures
    what @p points_path does not hold yet (measure(args, points) saves as it goes), renders."""
    parser.add_argument("--only-section", action="store_true",
                        help="write the section from the points kept so far; measure nothing")
    args = parser.parse_args()
    points = load_points(points_path)
    if not args.only_section:
        measure(args, points)
    render(points)
