// libFuzzer target: ONNX files (core/onnx/onnx_reader.*, core/graph/onnx_importer.*) given
// arbitrary bytes as a .onnx file: the protobuf parse, the tensor and external-data checks, the
// metadata scan that opens an exported model's normalization, and, for a file that parses, the
// importer's op mapping, constant folding and shape probes.
#include "fuzz_common.h"

#include "core/graph/graph.h"
#include "core/graph/onnx_importer.h"
#include "core/onnx/onnx_reader.h"
#include "core/util/runtime.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    ptq::initRuntime(1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ptqfuzz::writeInput(data, size, ".onnx");
    (void)ptq::onnx::readMetadata(path);  // never throws: an unreadable file has no metadata
    ptqfuzz::expectOnlyInvalidInput([&] { ptq::importOnnx(path, {}); });
    // A file whose input leaves its height and width open is imported at a given shape.
    ptqfuzz::expectOnlyInvalidInput([&] { ptq::importOnnx(path, {3, 16, 16}); });
    return 0;
}
