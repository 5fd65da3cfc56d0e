#pragma once
// Two graphs compared field by field (nodes, values, input, outputs, parameter tensors, buffer
// marks) and by running the executor on both: the first difference as a sentence, "" when equal.
#include "core/graph/graph.h"
#include "core/runtime/executor.h"

#include <ATen/ATen.h>

#include <string>

namespace ptqtest {

inline std::string firstDifference(const ptq::Graph& a, const ptq::Graph& b) {
    using std::to_string;
    if (a.nodes().size() != b.nodes().size())
        return "node counts " + to_string(a.nodes().size()) + " and " + to_string(b.nodes().size());
    for (size_t i = 0; i < a.nodes().size(); ++i) {
        const ptq::Node &x = a.nodes()[i], &y = b.nodes()[i];
        const std::string where = "node " + to_string(i) + " (" + x.name + ")";
        if (x.id != y.id || x.op != y.op) return where + ": id or op";
        if (x.name != y.name || x.scope != y.scope) return where + ": name or scope";
        if (x.inputs != y.inputs || x.outputs != y.outputs) return where + ": inputs or outputs";
        if (x.attrs != y.attrs) return where + ": attributes";
    }
    if (a.values().size() != b.values().size())
        return "value counts " + to_string(a.values().size()) + " and " + to_string(b.values().size());
    for (size_t i = 0; i < a.values().size(); ++i) {
        const ptq::Value &x = a.values()[i], &y = b.values()[i];
        const std::string where = "value " + to_string(i) + " (" + x.name + ")";
        if (x.id != y.id || x.name != y.name || x.shape != y.shape) return where + ": id, name or shape";
        if (x.producer != y.producer || x.producerOutput != y.producerOutput) return where + ": producer";
        if (x.param != y.param || x.consumers != y.consumers) return where + ": parameter or consumers";
    }
    if (a.inputValue() != b.inputValue() || a.outputValues() != b.outputValues()) return "graph input or outputs";
    if (a.inputKind() != b.inputKind() || a.tokenLimit() != b.tokenLimit()) return "input kind or token limit";
    if (a.paramKeys() != b.paramKeys()) return "parameter keys";
    for (const std::string& key : a.paramKeys()) {
        const at::Tensor &x = a.param(key), &y = b.param(key);
        if (x.scalar_type() != y.scalar_type() || x.sizes() != y.sizes()) return "parameter " + key + ": dtype or shape";
        if (!at::equal(x, y)) return "parameter " + key + ": values";
    }
    if (a.bufferKeys() != b.bufferKeys()) return "buffer marks";
    if (a.parameterCount() != b.parameterCount()) return "parameter counts";
    return {};
}

/// The executor's outputs on both graphs for one seeded batch of @p batch samples: "" when equal
/// bit for bit.
inline std::string firstRunDifference(const ptq::Graph& a, const ptq::Graph& b, int64_t batch = 2) {
    std::vector<int64_t> shape = a.sampleShape(a.inputValue());
    shape.insert(shape.begin(), batch);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
    const at::Tensor x = a.inputKind() == ptq::InputKind::Tokens
                             ? at::randint(0, a.tokenLimit(), shape, gen, at::TensorOptions().dtype(at::kLong))
                             : at::normal(0.0, 1.0, shape, gen);
    const std::vector<at::Tensor> ya = ptq::Executor(a).run(x), yb = ptq::Executor(b).run(x);
    if (ya.size() != yb.size()) return "output counts";
    for (size_t i = 0; i < ya.size(); ++i)
        if (!at::equal(ya[i], yb[i])) return "output " + std::to_string(i) + " differs";
    return {};
}

}  // namespace ptqtest
