#!/usr/bin/env bash
# Installs the Debian packages PTQ Studio needs to build, run and test.
# Idempotent and quick when everything is present (one dpkg-query call). Then npm's
# onnxruntime-node (tools/package.json) into tools/node_modules when it is missing.
set -euo pipefail
tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

# ONNX Runtime (not packaged in Debian 12) from the npm registry, for the tests that run the
# ONNX exports; ONNXRUNTIME_NODE_INSTALL=skip: no attempt at its optional CUDA download.
install_onnxruntime() {
  if [ -f "$tools_dir/node_modules/onnxruntime-node/package.json" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then  # Debian's nodejs comes without npm (NodeSource's has it)
    echo "install-deps: installing npm" >&2
    $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  echo "install-deps: installing onnxruntime-node into $tools_dir/node_modules" >&2
  (cd "$tools_dir" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error >/dev/null)
}

packages=(
  build-essential cmake ninja-build ccache pkg-config
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libqt6svg6 libgl-dev
  libqcustomplot-dev
  libtorch-dev
  libdnnl-dev                        # oneDNN: the quantized layers' integer kernels (LibTorch uses its libdnnl2)
  libopenblas0-pthread               # the BLAS libtorch's at::mm runs on (the reference BLAS is 15x slower)
  liblpsolve55-dev libcolamd2
  libspdlog-dev libfmt-dev zlib1g-dev
  libgraphviz-dev
  libonnx-dev libprotobuf-dev        # the ONNX export: protobuf classes, checker, shape inference
  nodejs                             # ONNX Runtime for the ONNX export's tests (tools/ort_run.js)
  dataset-fashion-mnist
  python3-torch python3-torchvision python3-numpy
  python3-onnx                       # tools/make_onnx_zoo.py: the ONNX import tests' fixture files
  xvfb xauth x11-apps
  file dpkg-dev                      # cpack: the .deb and its Depends (dpkg-shlibdeps)
  desktop-file-utils appstream       # validators of the shipped desktop entry and metainfo
)
if [ "${PTQ_WITH_EXTRAS:-0}" = 1 ]; then
  packages+=(imagemagick)
fi

missing=()
while read -r status name; do
  [ "$status" = "installed" ] || missing+=("$name")
done < <(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${packages[@]}" 2>/dev/null || true)
# dpkg-query prints nothing for packages it has never heard of: add those too.
for p in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -q '^installed$' || missing+=("$p")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if [ "${#missing[@]}" -eq 0 ]; then
  install_onnxruntime
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
install_onnxruntime
