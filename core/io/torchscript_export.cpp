#include "core/io/torchscript_export.h"

#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"

#include <QSaveFile>
#include <torch/script.h>

#include <map>
#include <sstream>

namespace ptq {

namespace {

/// Every parameter and buffer of the module by its dotted path; the tensors share storage with
/// the module, so writing into them changes what it saves.
std::map<std::string, at::Tensor> moduleTensors(const torch::jit::Module& m) {
    std::map<std::string, at::Tensor> out;
    for (const auto& p : m.named_parameters(true)) out[p.name] = p.value;
    for (const auto& b : m.named_buffers(true)) out[b.name] = b.value;
    return out;
}

}  // namespace

TorchScriptExportReport exportQuantizedTorchScript(const std::string& modelPath, const QuantizedModel& model,
                                                   const std::string& outPath) {
    torch::jit::Module module;
    try {
        module = torch::jit::load(modelPath, c10::Device(c10::kCPU));
    } catch (const std::exception&) {
        throw invalidInput("Could not load " + modelPath + " as TorchScript to export it; give the model file the "
                           "quantization was made from.");
    }
    std::map<std::string, at::Tensor> tensors = moduleTensors(module);
    auto target = [&](const std::string& key) -> at::Tensor& {
        auto it = tensors.find(key);
        if (it == tensors.end())
            throw invalidInput(modelPath + " has no parameter '" + key + "' that the quantized model uses: it is not "
                               "the model the quantization was made from.");
        return it->second;
    };
    auto assign = [&](const std::string& key, const at::Tensor& value) {
        at::Tensor& t = target(key);
        if (t.sizes() != value.sizes())
            throw invalidInput(modelPath + "'s parameter '" + key + "' has another shape than the quantized model's.");
        t.copy_(value.to(t.scalar_type()));
    };

    const at::NoGradGuard noGrad;
    const Graph& g = model.graph();
    TorchScriptExportReport report;
    for (int id : g.quantizableNodes()) {
        const Node& n = g.node(id);
        const at::Tensor& weight = model.runWeight(n.name);
        const std::string biasKey = n.inputs.size() > 2 ? g.paramOf(n, 2) : "";
        const std::optional<FoldedBatchNorm> fold = foldedBatchNorm(n);
        if (!fold) {
            assign(g.paramOf(n, 1), weight);
            if (!biasKey.empty()) assign(biasKey, model.floatParam(biasKey));
            ++report.layers;
            continue;
        }
        // conv -> BN with the BN made identity plus the folded bias: the conv's weight is then
        // exactly the quantized folded weight.
        assign(fold->weightKey, weight);
        if (!fold->biasKey.empty()) assign(fold->biasKey, at::zeros_like(model.floatParam(biasKey)));
        const Node& bn = g.node(g.findNode(fold->batchNorm));
        const double eps = bn.attrDouble("eps", 1e-5);
        const at::Tensor foldedBias = model.floatParam(biasKey);
        assign(g.paramOf(bn, 1), at::zeros_like(foldedBias));
        assign(g.paramOf(bn, 2), at::full_like(foldedBias, 1.0 - eps));
        if (bn.inputs.size() >= 5) {
            assign(g.paramOf(bn, 3), at::ones_like(foldedBias));
            assign(g.paramOf(bn, 4), foldedBias);
        } else {
            throw invalidInput("The BatchNorm '" + bn.name + "' has no affine shift to carry the tuned bias of layer '" +
                               n.name + "'; this model cannot be exported as TorchScript with folded biases.");
        }
        ++report.layers;
        ++report.batchNormsAbsorbed;
    }

    std::ostringstream bytes;
    module.save(bytes);
    const std::string data = bytes.str();
    QSaveFile file(QString::fromStdString(outPath));
    if (!file.open(QIODevice::WriteOnly) || file.write(data.data(), qint64(data.size())) != qint64(data.size()) ||
        !file.commit())
        throw failed("Could not write " + outPath + ": " + file.errorString().toStdString() + ".");
    return report;
}

}  // namespace ptq
