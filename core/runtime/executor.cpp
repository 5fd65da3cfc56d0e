#include "core/runtime/executor.h"

#include "core/runtime/ops.h"
#include "core/util/error.h"

#include <ATen/ATen.h>

namespace ptq {

Executor::Executor(const Graph& graph) : graph_(graph), lastUse_(graph.values().size(), -1) {
    for (const Node& n : graph.nodes())
        for (int in : n.inputs)
            if (graph.value(in).param.empty()) lastUse_[size_t(in)] = n.id;
    for (int out : graph.outputValues()) lastUse_[size_t(out)] = -1;
}

std::vector<at::Tensor> Executor::run(const at::Tensor& input) const {
    const auto& values = graph_.values();
    const auto expected = graph_.sampleShape(graph_.inputValue());
    if (input.dim() != int64_t(expected.size()) + 1 || input.sizes().slice(1).vec() != expected) {
        std::string got, want;
        for (auto d : input.sizes()) got += (got.empty() ? "" : "x") + std::to_string(d);
        for (auto d : expected) want += (want.empty() ? "" : "x") + std::to_string(d);
        throw invalidInput("The input has shape " + got + " but the model takes N x " + want +
                           ": give data of the model's input shape.");
    }
    std::vector<at::Tensor> live(values.size());
    live[size_t(graph_.inputValue())] = input;
    const int64_t batch = input.size(0);
    std::vector<at::Tensor> args;
    for (const Node& n : graph_.nodes()) {
        args.clear();
        for (int in : n.inputs) {
            const Value& v = values[size_t(in)];
            args.push_back(v.param.empty() ? live[size_t(in)] : graph_.param(v.param));
        }
        std::vector<at::Tensor> outs = runOp(n, args, batch);
        for (size_t i = 0; i < n.outputs.size(); ++i) live[size_t(n.outputs[i])] = std::move(outs[i]);
        for (int in : n.inputs)
            if (lastUse_[size_t(in)] == n.id) live[size_t(in)] = at::Tensor();
    }
    std::vector<at::Tensor> result;
    for (int out : graph_.outputValues()) result.push_back(live[size_t(out)]);
    return result;
}

}  // namespace ptq
