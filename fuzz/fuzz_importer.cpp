// libFuzzer target: the TorchScript importer (core/graph/torchscript_importer.*) given arbitrary
// bytes as a .pt file: the container checks, LibTorch's loader, the tensor checks and the
// interpreter that maps the forward graph to the IR.
#include "fuzz_common.h"

#include "core/graph/graph.h"
#include "core/graph/torchscript_importer.h"
#include "core/util/runtime.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    ptq::initRuntime(1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ptqfuzz::writeInput(data, size, ".pt");
    ptqfuzz::expectOnlyInvalidInput([&] { ptq::importTorchScript(path, {1, 28, 28}); });
    return 0;
}
