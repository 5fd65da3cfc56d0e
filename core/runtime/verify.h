#pragma once
/// @file
/// Compares the executor with TorchScript's own forward on the same random batch.

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

class Graph;

struct VerifyResult {
    double maxRelativeDiff = 0.0;  ///< max |a-b| / max(|b|) over every output element
    double maxAbsoluteDiff = 0.0;
    int64_t batch = 0;
    double executorMs = 0.0;
    double torchScriptMs = 0.0;
};

/// Runs @p graph (imported from @p path) and the TorchScript module at @p path on one seeded
/// normal batch of @p batch samples. Any thread; seconds for large models.
VerifyResult verifyAgainstTorchScript(const Graph& graph, const std::string& path, int64_t batch, uint64_t seed);

}  // namespace ptq

namespace ptq {

/// Runs @p graph (imported from the ONNX file @p path) and ONNX Runtime on the file (npm's
/// onnxruntime-node through tools/ort_run.js: PTQ_ORT_RUN names the script, else the source
/// tree's) on one seeded normal batch; torchScriptMs holds ONNX Runtime's time, process start
/// included. A file that fixes its batch is run in batches of that size. Any thread. Throws
/// ptq::Error (Failed) with one sentence when Node.js, the script or ONNX Runtime is missing or
/// ONNX Runtime refuses the file.
VerifyResult verifyAgainstOnnxRuntime(const Graph& graph, const std::string& path, int64_t batch, uint64_t seed);

}  // namespace ptq
