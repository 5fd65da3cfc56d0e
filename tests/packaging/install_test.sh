#!/usr/bin/env bash
# Installs the ptq-studio .deb on this machine the way a user does (apt-get install ./FILE.deb,
# which pulls the Debian dependencies), runs the installed programs from /usr/bin, validates the
# installed desktop files, then removes the package and every package its install pulled in, so
# the machine is left as it was. Needs root. Not part of the default ctest run.
#
#   tests/packaging/install_test.sh [BUILD_DIR]     (default: build; or `make package-test`)
#
# The .deb is (re)built with `cmake --build BUILD_DIR --target package` unless PTQ_DEB names one.
# Every check runs even when an earlier one fails; the last line counts them, and the exit code
# is 0 only when all passed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:-$source_dir/build}" 2>/dev/null && pwd) || {
  echo "install_test: build folder ${1:-$source_dir/build} not found; run 'make build' first." >&2
  exit 2
}
if [ "$(id -u)" -ne 0 ]; then
  echo "install_test: installs a package with apt-get: run it as root." >&2
  exit 2
fi
if dpkg-query -W -f='${db:Status-Status}' ptq-studio 2>/dev/null | grep -q '^installed$'; then
  echo "install_test: ptq-studio is already installed here; remove it first (apt-get remove ptq-studio) so the test can leave the machine as it found it." >&2
  exit 2
fi
for tool in desktop-file-validate appstreamcli; do
  command -v "$tool" >/dev/null || {
    echo "install_test: $tool is missing; run tools/install-deps.sh." >&2
    exit 2
  }
done

export DEBIAN_FRONTEND=noninteractive
passed=0
failed=0
work=$(mktemp -d /tmp/ptq-install-test.XXXXXX)
# Run the installed programs with a fresh home: their caches and logs go there, not to root's.
export HOME=$work/home XDG_RUNTIME_DIR=$work/runtime
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
pass() { passed=$((passed + 1)); echo "PASS  $1"; }
fail() { failed=$((failed + 1)); echo "FAIL  $1"; }
# check NAME COMMAND...: runs COMMAND, output to $work/NAME.log, and reports it with its time.
check() {
  local name=$1 start rc
  shift
  start=$(now)
  "$@" >"$work/$name.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    pass "$name ($(seconds "$start") s)"
  else
    fail "$name (exit $rc, $(seconds "$start") s):"
    sed 's/^/      /' "$work/$name.log" | tail -n 20
  fi
  return $rc
}

# --- the package ------------------------------------------------------------------------------
if [ -n "${PTQ_DEB:-}" ]; then
  deb=$(realpath "$PTQ_DEB")
else
  start=$(now)
  if ! nice cmake --build "$build_dir" --target package >"$work/package.log" 2>&1; then
    tail -n 30 "$work/package.log"
    echo "install_test: building the package failed (log above)." >&2
    exit 1
  fi
  echo "built the package in $(seconds "$start") s"
  deb=$(ls -t "$build_dir"/ptq-studio_*.deb 2>/dev/null | head -n 1)
fi
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
  echo "install_test: no ptq-studio_*.deb in $build_dir." >&2
  exit 1
fi
echo "package: $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb -f "$deb" Version Depends Recommends | sed 's/^/  /'

# The package's tree as a whole: metainfo, the desktop entry it launches and the icons agree.
package_tree_validates() {
  dpkg-deb -x "$deb" "$work/tree" && appstreamcli validate-tree --no-net "$work/tree"
}
check appstream-validate-tree package_tree_validates

# --- what the Depends pull on a fresh machine (simulated, changes nothing) ----------------------
# apt resolves the package against a status file of this machine's base system only (Essential
# and required packages): every library the programs need must come in by the Depends.
fresh_machine_resolves() {
  local base=$work/base-status
  python3 "$here/minimal_status.py" "$base" || return 1
  apt-get -s -o Dir::State::status="$base" install "$deb" >"$work/fresh-simulation.txt" 2>&1 || {
    cat "$work/fresh-simulation.txt"; return 1; }
  grep -E 'newly installed' "$work/fresh-simulation.txt"
  local p missing=0
  for p in ptq-studio libtorch1.13 libqt6widgets6 libqcustomplot2.1-qt6 libgvc6 libspdlog1.10 \
           qt6-qpa-plugins dataset-fashion-mnist libopenblas0-pthread; do
    grep -q "^Inst $p " "$work/fresh-simulation.txt" || { echo "not pulled: $p"; missing=1; }
  done
  return $missing
}
check fresh-machine-resolves fresh_machine_resolves && sed 's/^/  /' "$work/fresh-machine-resolves.log"

# --- install, and undo it on any exit ---------------------------------------------------------
# What the install adds is taken from the package lists right before and right after it, so a
# package someone else installs while the test runs is never removed by it.
installed_packages() { dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" { print $2 }' | sort; }
apt_wait=(-o DPkg::Lock::Timeout=600)
installed_packages >"$work/before.txt"
added=""
cleanup() {
  local start left
  start=$(now)
  [ -n "$added" ] || added=$(installed_packages | comm -13 "$work/before.txt" - | tr '\n' ' ')
  if [ -n "$added" ]; then
    # shellcheck disable=SC2086
    if apt-get remove -y -qq "${apt_wait[@]}" $added >"$work/remove.log" 2>&1; then
      echo "removed: $added($(seconds "$start") s)"
    else
      echo "install_test: apt-get remove failed; see $work/remove.log" >&2
    fi
    left=$(installed_packages | grep -Fx -f <(tr ' ' '\n' <<<"$added" | sed '/^$/d') | tr '\n' ' ')
    if [ -z "$left" ]; then
      pass "removed the $(wc -w <<<"$added") package(s) the install added"
    else
      fail "still installed after the test: $left"
    fi
  fi
  echo "logs in $work"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}
trap cleanup EXIT

check apt-install apt-get install -y "${apt_wait[@]}" "$deb"
rc=$?
added=$(installed_packages | comm -13 "$work/before.txt" - | tr '\n' ' ')
echo "  added by the install: ${added% }"
[ $rc -eq 0 ] || exit 1

# --- the installed files ----------------------------------------------------------------------
version=$(dpkg-deb -f "$deb" Version)
models=/usr/share/ptq-studio/models
expect_files() {
  local f missing=0
  for f in "$@"; do
    [ -s "$f" ] || { echo "missing: $f"; missing=1; }
  done
  return $missing
}
check installed-files expect_files /usr/bin/ptq /usr/bin/ptq-studio /usr/bin/ptq-bench-gui \
  /usr/lib/ptq-studio/ptq-import \
  $models/resnet20_fmnist.pt $models/resnet20_fmnist.json \
  $models/mobilenetv2_fmnist.pt $models/mobilenetv2_fmnist.json \
  $models/vit_fmnist.pt $models/vit_fmnist.json \
  /usr/share/applications/org.ptqstudio.PTQStudio.desktop \
  /usr/share/metainfo/org.ptqstudio.PTQStudio.metainfo.xml \
  /usr/share/icons/hicolor/scalable/apps/ptq-studio.svg \
  /usr/share/icons/hicolor/{16x16,32x32,48x48,64x64,128x128,256x256}/apps/ptq-studio.png \
  /usr/share/man/man1/ptq.1.gz /usr/share/man/man1/ptq-studio.1.gz

# The installed programs find every library, and none looks into the build tree.
libraries_resolve() {
  local f rc=0
  for f in /usr/bin/ptq /usr/bin/ptq-studio /usr/bin/ptq-bench-gui /usr/lib/ptq-studio/ptq-import; do
    if ldd "$f" | grep 'not found'; then rc=1; fi
    if readelf -d "$f" | grep -E 'R(UN)?PATH' | grep -F "$build_dir"; then rc=1; fi
    readelf -d "$f" | grep -E 'R(UN)?PATH' | sed "s|^|$f: |"
  done
  return $rc
}
check libraries libraries_resolve

man_pages_read() {
  local p
  for p in ptq ptq-studio; do
    gzip -t /usr/share/man/man1/$p.1.gz && zcat /usr/share/man/man1/$p.1.gz | grep -q '^\.TH' || return 1
  done
}
check man-pages man_pages_read
# desktop-file-validate exits 0 on warnings and hints: the installed file must have none.
desktop_file_clean() {
  local out
  out=$(desktop-file-validate /usr/share/applications/org.ptqstudio.PTQStudio.desktop) || { echo "$out"; return 1; }
  echo "$out"
  [ -z "$out" ]
}
check desktop-file-validate desktop_file_clean
check appstreamcli-validate appstreamcli validate --no-net /usr/share/metainfo/org.ptqstudio.PTQStudio.metainfo.xml

# --- the installed programs, run from /usr/bin --------------------------------------------------
studio_version() {
  local out
  out=$(QT_QPA_PLATFORM=offscreen /usr/bin/ptq-studio --version) || return 1
  echo "$out"
  [[ "$out" == *"$version"* ]]
}
check ptq-studio-version studio_version && sed 's/^/  /' "$work/ptq-studio-version.log"

# The installed plugins are the ones found, never a build tree's.
installed_targets() {
  local out
  out=$(/usr/bin/ptq targets 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  grep -q '/usr/lib/ptq-studio/plugins/' <<<"$out" || { echo "no plugin of /usr/lib/ptq-studio/plugins listed"; return 1; }
  if grep -qF "$build_dir" <<<"$out"; then echo "the installed ptq read plugins from the build tree"; return 1; fi
}
check ptq-targets installed_targets && sed 's/^/  /' "$work/ptq-targets.log"

quantize() {
  local out
  out=$(/usr/bin/ptq quantize $models/resnet20_fmnist.pt --calib fmnist:train:200 \
    --eval fmnist:test:1000 --w 8 --a 8 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  grep -qi 'top-1' <<<"$out"
}
check ptq-quantize quantize && grep -i 'top-1\|drop' "$work/ptq-quantize.log" | sed 's/^/  /'

# The installed ptq imports in the installed helper (/usr/lib/ptq-studio/ptq-import): a file
# crafted to crash LibTorch's reader is an error sentence (exit 2), not a crash of ptq.
crash_is_an_error() {
  local out rc
  /usr/bin/python3 "$source_dir/tools/make_crashing_model.py" "$source_dir/tests/robustness/files/good_tiny.pt" \
    "$work/crashing_reader.pt" >/dev/null || return 1
  out=$(PTQ_IMPORT_HELPER= /usr/bin/ptq info "$work/crashing_reader.pt" --input-shape 1,28,28 2>&1)
  rc=$?
  echo "exit $rc: $out"
  [ $rc -eq 2 ] && grep -q 'crashed the TorchScript reader' <<<"$out"
}
check ptq-import-helper crash_is_an_error && sed 's/^/  /' "$work/ptq-import-helper.log"

# The window on the bundled demo (found next to /usr/bin), rendered offscreen: this loads
# Graphviz's dot plugin, the Qt platform plugin and the demo's default Fashion-MNIST data.
check ptq-studio-demo-screenshot env QT_QPA_PLATFORM=offscreen \
  /usr/bin/ptq-studio --screenshot "$work/demo.png"
