// libFuzzer target: the ptq-config reader (core/io/quant_config_file.*) against a small model's
// graph; a file it accepts is then restored into a runnable quantized model, as `ptq evaluate
// --config` does, so that sizes it accepted are sizes the model can use.
#include "fuzz_common.h"

#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/io/quant_config_file.h"
#include "core/quant/quantized_model.h"
#include "core/util/runtime.h"

#include <memory>

namespace {
const ptq::Graph& tinyGraph() {
    static const std::unique_ptr<ptq::Graph> graph = [] {
        auto g = std::make_unique<ptq::Graph>(ptq::importTorchScript(PTQ_FUZZ_MODEL, {1, 28, 28}));
        ptq::foldBatchNorms(*g);
        return g;
    }();
    return *graph;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    ptq::initRuntime(1);
    tinyGraph();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ptqfuzz::writeInput(data, size, ".json");
    ptqfuzz::expectOnlyInvalidInput([&] {
        const ptq::ImportedConfig imported = ptq::readQuantConfig(path, tinyGraph());
        ptq::restoreQuantizedModel(tinyGraph(), imported);
    });
    return 0;
}
