#!/usr/bin/env bash
# The BLAS before/after: ptq bench adaquant's GEMM figures with the reference BLAS (forced by
# LD_LIBRARY_PATH) and with the alternative install-deps sets (OpenBLAS), alternated 3 times.
# Run from the repository root after a build; prints: library, at::mm 1024² GFLOP/s, ViT-B MLP Linear GFLOP/s, path.
cd "$(dirname "$0")/.."
M=${1:-resources/models/resnet20_fmnist.pt}
for run in 1 2 3; do
  for lib in reference default; do
    if [ $lib = reference ]; then env=LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas; else env=; fi
    env $env build/app/ptq bench adaquant "$M" --calib fmnist:train:256 --layers 1 --adaquant-iters 5 --json |
      python3 -c "import json,sys; o=json.load(sys.stdin); print('$lib', o['mm_gflops'], o['linear_gflops'], o['blas'])"
  done
done
