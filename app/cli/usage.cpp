#include "cli/commands.h"

#include "cli/common.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cmath>
#include <cstdio>

namespace ptq::cli {

std::string usage() {
    return "Usage: ptq COMMAND [options]\n"
           "\n"
           "PTQ Studio's command line: post-training quantization of TorchScript models.\n"
           "\n"
           "Commands:\n"
           "  info MODEL [--input-shape C,H,W] [--json]\n"
           "      conv/linear layers with weight shape, parameters and MACs for one input sample\n"
           "  graph MODEL [--input-shape C,H,W] [--fold-bn] [--verify] [--batch N] [--seed S] [--json]\n"
           "      the imported graph, one node a line; --fold-bn folds BatchNorm into the layer\n"
           "      before it; --verify compares the executor with TorchScript's own forward on\n"
           "      one random batch\n"
           "  quantize MODEL --calib SRC --eval SRC [--w BITS] [--a BITS]\n"
           "           [--granularity per-tensor|per-channel|shift] [--weight-range minmax|percentile|mse]\n"
           "           [--act-range minmax|percentile|mse] [--keep-first-last-8bit]\n"
           "           [--pipeline none|light|advanced] [--sequential] [--adaquant] [--bn-tuning]\n"
           "           [--bias-correction] [--bias-tuning] [--adaquant-iters N] [--adaquant-batch N]\n"
           "           [--adaquant-lr-w X] [--adaquant-lr-b X] [--adaquant-lr-a X] [--adaquant-lr-q X]\n"
           "           [--cache-mb MB] [--bias-iters N] [--bias-batch N] [--bias-lr X] [--seed S]\n"
           "           [--layer-errors] [--layer-csv FILE] [--eval-each-step] [--no-fp32] [--batch N] [--json]\n"
           "      fake-quantized evaluation: FP32 and quantized top-1 and the drop; light = ranges +\n"
           "      BN tuning + bias correction; advanced = ranges + AdaQuant (parallel, or with\n"
           "      --sequential on the quantized model's inputs) + BN tuning + bias tuning; the step\n"
           "      flags add single steps; --layer-csv writes AdaQuant's per-layer MSE before/after;\n"
           "      --layer-errors adds each layer's output MSE and SNR; --eval-each-step the top-1\n"
           "      after calibration and after each tuning step\n"
           "      (data sources: fmnist:train, fmnist:test:1000, idx:IMAGES[,LABELS], folder:DIR, npy:FILE)\n"
           "  bench forward MODEL [--input-shape C,H,W] [--batch N] [--runs R] [--fold-bn] [--json]\n"
           "      executor vs TorchScript forward: median time of R alternating runs, peak memory\n"
           "  bench quant MODEL [--eval SRC] [--calib SRC] [--w BITS] [--a BITS] [--per-tensor]\n"
           "              [--batch N] [--runs R] [--json]\n"
           "      a whole evaluation pass, FP32 executor vs fake-quantized: medians of R alternated runs\n"
           "  bench adaquant MODEL [--calib SRC] [--w BITS] [--a BITS] [--adaquant-iters N]\n"
           "           [--adaquant-batch N] [--layers N] [--json]\n"
           "      AdaQuant speed: seconds and GFLOP/s per layer against this machine's sgemm GFLOP/s\n"
           "  bench gui [--positions N] [--model MODEL] [--calib SRC] [--json]\n"
           "      budget slider to repainted window: p50/p99 latency over N positions on the demo's table\n"
           "      and a synthetic 54-layer table (runs ptq-bench-gui, built beside ptq)\n"
           "\n"
           "Options for every command:\n"
           "  --json      one JSON object on stdout instead of text\n"
           "  --help      this text\n"
           "  --version   the version\n"
           "\n"
           "The input shape comes from the model's sidecar JSON (MODEL.json) unless given.\n"
           "Exit codes: 0 done, 1 failed while running, 2 bad input or usage.\n";
}

}  // namespace ptq::cli
