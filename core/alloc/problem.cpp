#include "core/alloc/problem.h"

#include "core/util/error.h"

#include <cmath>

namespace ptq {

const char* costKindName(CostKind kind) { return kind == CostKind::Size ? "size" : "bops"; }

CostKind costKindFromString(const std::string& text) {
    if (text == "size") return CostKind::Size;
    if (text == "bops") return CostKind::Bops;
    throw invalidInput("Unknown cost '" + text + "'; use size (weight bits) or bops (bit operations).");
}

int AllocationProblem::layerIndex(const std::string& name) const {
    for (size_t i = 0; i < layers.size(); ++i)
        if (layers[i] == name) return int(i);
    return -1;
}

int AllocationProblem::optionIndex(const std::string& name) const {
    for (size_t i = 0; i < options.size(); ++i)
        if (options[i] == name) return int(i);
    return -1;
}

namespace {

std::string optionList(const AllocationProblem& p) {
    std::string s;
    for (const auto& o : p.options) s += (s.empty() ? "" : ", ") + o;
    return s;
}

}  // namespace

void AllocationProblem::pin(const std::string& layer, const std::string& option) {
    const int l = layerIndex(layer);
    if (l < 0)
        throw invalidInput("The layer '" + layer + "' is not in the sensitivity table: lock one of its layers "
                           "(ptq sensitivity lists them).");
    const int o = optionIndex(option);
    if (o < 0)
        throw invalidInput("The option '" + option + "' is not in the sensitivity table; it has " + optionList(*this) +
                           ".");
    pinned[size_t(l)] = o;
}

void AllocationProblem::exclude(const std::string& option) {
    const int o = optionIndex(option);
    if (o < 0)
        throw invalidInput("The option '" + option + "' is not in the sensitivity table; it has " + optionList(*this) +
                           ".");
    excluded[size_t(o)] = true;
}

void AllocationProblem::validate() const {
    const size_t L = layers.size(), O = options.size();
    if (L == 0 || O == 0) throw invalidInput("The allocation problem has no layers or no options.");
    auto checkMatrix = [&](const std::vector<std::vector<double>>& m, const char* what) {
        if (m.size() != L) throw invalidInput(std::string("The ") + what + " table does not have one row a layer.");
        for (size_t l = 0; l < L; ++l) {
            if (m[l].size() != O)
                throw invalidInput(std::string("The ") + what + " row of layer " + layers[l] +
                                   " does not have one value an option.");
            for (double v : m[l])
                if (!std::isfinite(v))
                    throw invalidInput(std::string("The ") + what + " of layer " + layers[l] + " is not a finite number.");
        }
    };
    checkMatrix(degradation, "degradation");
    checkMatrix(size, "size");
    checkMatrix(bops, "BOPs");
    if (pinned.size() != L || excluded.size() != O)
        throw invalidInput("The allocation problem's locks or exclusions do not match its layers and options.");
    for (size_t l = 0; l < L; ++l) {
        if (pinned[l] >= int(O)) throw invalidInput("Layer " + layers[l] + " is locked to an option that does not exist.");
        bool any = false;
        for (size_t o = 0; o < O && !any; ++o) any = allowed(l, o);
        if (!any)
            throw invalidInput("Every option is excluded, so layer " + layers[l] + " has none left: exclude fewer "
                               "options or lock the layer.");
    }
}

AllocationProblem AllocationProblem::sized(size_t L, size_t O) {
    AllocationProblem p;
    p.layers.resize(L);
    p.options.resize(O);
    for (size_t l = 0; l < L; ++l) p.layers[l] = "layer" + std::to_string(l);
    for (size_t o = 0; o < O; ++o) p.options[o] = "opt" + std::to_string(o);
    p.degradation.assign(L, std::vector<double>(O, 0.0));
    p.size = p.degradation;
    p.bops = p.degradation;
    p.pinned.assign(L, -1);
    p.excluded.assign(O, false);
    return p;
}

void sumChoice(const AllocationProblem& p, const std::vector<int>& choice, AllocationResult& r) {
    r.degradation = r.size = r.bops = 0;
    for (size_t l = 0; l < choice.size(); ++l) {
        r.degradation += p.degradation[l][size_t(choice[l])];
        r.size += p.size[l][size_t(choice[l])];
        r.bops += p.bops[l][size_t(choice[l])];
    }
}

}  // namespace ptq
