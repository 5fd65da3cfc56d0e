#include "core/analysis/layer_error.h"

#include "core/graph/graph.h"
#include "core/runtime/ops.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <unordered_map>

namespace ptq {

std::vector<LayerError> layerErrors(const QuantizedModel& model, const Dataset& data, int64_t batchSize,
                                    const Progress* progress) {
    const Graph& g = model.graph();
    const RunHooks quantized = model.hooks();
    struct Sums {
        double error = 0, signal = 0, count = 0;
    };
    std::unordered_map<int, Sums> sums;
    for (int id : g.allocationNodes()) sums[id];
    RunHooks fp;
    fp.afterNode = [&](const Node& n, const std::vector<at::Tensor>& in, std::vector<at::Tensor>& outs) {
        auto it = sums.find(n.id);
        if (it == sums.end()) return;
        // The same layer under its quantization, on the FP input: the model's own hooks quantize
        // the input activation and supply the quantized weight (and tuned bias, if any).
        std::vector<at::Tensor> qin = in;
        quantized.beforeNode(n, qin);
        for (size_t i = 1; i < n.inputs.size(); ++i)
            if (const at::Tensor* p = quantized.paramOverride(g.value(n.inputs[i]).param)) qin[i] = *p;
        const at::Tensor yq = runOp(n, qin, outs[0].size(0)).at(0);
        const at::Tensor diff = (yq - outs[0]).to(at::kDouble);
        it->second.error += (diff * diff).sum().item<double>();
        const at::Tensor y = outs[0].to(at::kDouble);
        it->second.signal += (y * y).sum().item<double>();
        it->second.count += double(outs[0].numel());
    };
    c10::InferenceMode guard;
    Executor(g).runDataset(data, batchSize, [](const Batch&, const std::vector<at::Tensor>&) {}, progress, fp);
    std::vector<LayerError> result;
    for (int id : g.allocationNodes()) {
        const Sums& s = sums[id];
        LayerError e;
        e.layer = g.node(id).name;
        e.mse = s.count > 0 ? s.error / s.count : 0.0;
        e.snrDb = s.error > 0 ? 10.0 * std::log10(s.signal / s.error) : std::numeric_limits<double>::infinity();
        result.push_back(e);
    }
    return result;
}

}  // namespace ptq
