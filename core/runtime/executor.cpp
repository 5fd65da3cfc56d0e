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

std::vector<at::Tensor> Executor::run(const at::Tensor& input, const RunHooks& hooks) const {
    const auto expected = graph_.sampleShape(graph_.inputValue());
    if (input.dim() != int64_t(expected.size()) + 1 || input.sizes().slice(1).vec() != expected) {
        std::string got, want;
        for (auto d : input.sizes()) got += (got.empty() ? "" : "x") + std::to_string(d);
        for (auto d : expected) want += (want.empty() ? "" : "x") + std::to_string(d);
        throw invalidInput("The input has shape " + got + " but the model takes N x " + want +
                           ": give data of the model's input shape.");
    }
    std::vector<at::Tensor> live(graph_.values().size());
    live[size_t(graph_.inputValue())] = input;
    return execute(0, live, input.size(0), hooks);
}

std::vector<at::Tensor> Executor::runFrom(int startNode, const LiveValues& given, int64_t batch,
                                          const RunHooks& hooks) const {
    std::vector<at::Tensor> live(graph_.values().size());
    for (const auto& [id, t] : given) live.at(size_t(id)) = t;
    for (int id : cutValues(startNode))
        if (!live[size_t(id)].defined())
            throw failed("A suffix run from '" + graph_.node(startNode).name + "' needs the value '" +
                         graph_.value(id).name + "', which was not given.");
    return execute(startNode, live, batch, hooks);
}

LiveValues Executor::runSegment(int startNode, const LiveValues& given, int endNode, int64_t batch,
                                const RunHooks& hooks) const {
    if (endNode < startNode || endNode > int(graph_.nodes().size()))
        throw failed("internal: a run segment from node " + std::to_string(startNode) + " to node " +
                     std::to_string(endNode) + " is out of order");
    std::vector<at::Tensor> live(graph_.values().size());
    for (const auto& [id, t] : given) live.at(size_t(id)) = t;
    if (endNode > startNode) {
        for (int id : cutValues(startNode))
            if (!live[size_t(id)].defined())
                throw failed("A run segment from '" + graph_.node(startNode).name + "' needs the value '" +
                             graph_.value(id).name + "', which was not given.");
        RunHooks segment = hooks;
        segment.stopAfter = endNode - 1;
        execute(startNode, live, batch, segment);  // frees what no node from endNode on reads
    }
    LiveValues out;
    for (int id : cutValues(endNode)) {
        if (!live[size_t(id)].defined())
            throw failed("internal: the value '" + graph_.value(id).name + "' is missing after a run segment");
        out.emplace_back(id, live[size_t(id)]);
    }
    return out;
}

std::vector<int> Executor::cutValues(int startNode) const {
    std::vector<int> cut;
    std::vector<bool> seen(graph_.values().size(), false);
    for (size_t i = size_t(startNode); i < graph_.nodes().size(); ++i)
        for (int in : graph_.nodes()[i].inputs) {
            const Value& v = graph_.value(in);
            if (!v.param.empty() || seen[size_t(in)]) continue;
            if (v.producer < startNode) {  // the graph input has producer -1
                cut.push_back(in);
                seen[size_t(in)] = true;
            }
        }
    return cut;
}

std::vector<at::Tensor> Executor::execute(int startNode, std::vector<at::Tensor>& live, int64_t batch,
                                          const RunHooks& hooks) const {
    const auto& values = graph_.values();
    int64_t liveBytes = 0, peak = 0;
    const bool trackMemory = hooks.peakLiveBytes != nullptr;
    std::vector<bool> counted(trackMemory ? values.size() : 0, true);
    if (trackMemory)
        for (const auto& t : live)
            if (t.defined()) liveBytes += int64_t(t.nbytes());
    std::vector<at::Tensor> args;
    const int stop = hooks.stopAfter >= 0 ? hooks.stopAfter : int(graph_.nodes().size()) - 1;
    for (int id = startNode; id <= stop; ++id) {
        const Node& n = graph_.node(id);
        args.clear();
        for (int in : n.inputs) {
            const Value& v = values[size_t(in)];
            if (v.param.empty()) {
                args.push_back(live[size_t(in)]);
            } else {
                const at::Tensor* override = hooks.paramOverride ? hooks.paramOverride(v.param) : nullptr;
                args.push_back(override ? *override : graph_.param(v.param));
            }
        }
        if (hooks.beforeNode) hooks.beforeNode(n, args);
        std::vector<at::Tensor> outs;
        if (graph_.isFoldedBatchNorm(n)) outs = {args[0]};  // folded into its producer
        else if (!(hooks.runNode && hooks.runNode(n, args, outs))) outs = runOp(n, args, batch);
        if (hooks.afterNode) hooks.afterNode(n, args, outs);
        for (size_t i = 0; i < n.outputs.size(); ++i) {
            if (trackMemory) {
                // Views (reshape, permute, folded BN) share their input's memory: count new memory only.
                bool alias = false;
                for (const auto& a : args) alias = alias || (a.defined() && outs[i].is_alias_of(a));
                counted[size_t(n.outputs[i])] = !alias;
                if (!alias) liveBytes += int64_t(outs[i].nbytes());
            }
            live[size_t(n.outputs[i])] = std::move(outs[i]);
        }
        if (trackMemory) peak = std::max(peak, liveBytes);
        for (int in : n.inputs)
            if (lastUse_[size_t(in)] == n.id && live[size_t(in)].defined()) {
                if (trackMemory && counted[size_t(in)]) liveBytes -= int64_t(live[size_t(in)].nbytes());
                live[size_t(in)] = at::Tensor();
            }
    }
    if (trackMemory) *hooks.peakLiveBytes = peak;
    std::vector<at::Tensor> result;
    if (hooks.stopAfter >= 0) {
        for (int out : graph_.node(hooks.stopAfter).outputs) result.push_back(live[size_t(out)]);
    } else {
        for (int out : graph_.outputValues()) result.push_back(live[size_t(out)]);
    }
    return result;
}

void Executor::runDataset(const Dataset& data, int64_t batchSize,
                          const std::function<void(const Batch&, const std::vector<at::Tensor>&)>& onBatch,
                          const Progress* progress, const RunHooks& hooks) const {
    // A batch is a long stretch (the first one also sets up every kernel): the cancel flag is
    // looked at before every node too, so a cancel stops the run within one layer.
    RunHooks checked = hooks;
    if (progress)
        checked.beforeNode = [&hooks, progress](const Node& node, std::vector<at::Tensor>& inputs) {
            progress->throwIfCancelled();
            if (hooks.beforeNode) hooks.beforeNode(node, inputs);
        };
    forEachBatch(data, batchSize, [&](const Batch& b) {
        // from_blob does not copy: the batch's memory outlives this call's use of it.
        const at::Tensor images = at::from_blob(const_cast<float*>(b.images), b.shape, at::kFloat);
        onBatch(b, run(images, checked));
    }, progress, "Running the model");
}

}  // namespace ptq
