#include "core/graph/torchscript_importer.h"

#include "core/graph/import_interpreter.h"
#include "core/graph/pickle_scan.h"
#include "core/graph/zip_check.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/frontend/error_report.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace ptq {

namespace {

std::string firstLine(std::string s) {
    if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    return s;
}

// Checks the container before LibTorch sees it, so each kind of bad file gets its own sentence.
void checkContainer(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw invalidInput("No model file at '" + path + "': check the path.");
    if (fs::is_directory(path, ec))
        throw invalidInput("'" + path + "' is a folder, not a model file: give the path of a TorchScript .pt file.");
    const auto size = fs::file_size(path, ec);
    if (ec) throw invalidInput("Cannot read '" + path + "': " + ec.message() + ".");
    if (size == 0)
        throw invalidInput("'" + path + "' is empty (0 bytes), not a TorchScript model: export one with "
                           "torch.jit.script(model).save(path).");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw invalidInput("Cannot open '" + path + "' for reading: check its permissions.");
    char magic[4] = {0, 0, 0, 0};
    in.read(magic, 4);
    if (!(magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4)) {
        const bool pickle = static_cast<unsigned char>(magic[0]) == 0x80;
        throw invalidInput("'" + path + "' is not a TorchScript file (" +
                           (pickle ? std::string("it is a legacy torch.save pickle")
                                   : std::string("it does not start with a zip archive")) +
                           "): export the model with torch.jit.script(model).save(path) or torch.jit.trace.");
    }
    std::vector<std::string> records;
    try {
        caffe2::serialize::PyTorchStreamReader reader(path);
        records = reader.getAllRecords();
    } catch (const c10::Error&) {
        throw invalidInput("'" + path + "' is truncated or damaged (its zip archive cannot be read): copy or "
                           "export the model again.");
    }
    bool hasCode = false, hasData = false, hasConstants = false;
    for (const auto& r : records) {
        if (r.rfind("code/", 0) == 0) hasCode = true;
        if (r == "data.pkl") hasData = true;
        if (r == "constants.pkl") hasConstants = true;
    }
    if (hasData && !hasCode && !hasConstants)
        throw invalidInput("'" + path + "' holds tensors saved with torch.save (a state_dict or a pickled object), "
                           "not a TorchScript module: export the model with torch.jit.script(model).save(path).");
    if (!hasCode)
        throw invalidInput("'" + path + "' is a zip archive without TorchScript code: export the model with "
                           "torch.jit.script(model).save(path) or torch.jit.trace(model, example).save(path).");
    // LibTorch does not check the zip's CRC-32s: damaged code would reach its compiler.
    if (const std::string damage = findZipDamage(path); !damage.empty())
        throw invalidInput("'" + path + "' is damaged: " + damage + " (the file changed after it was saved); copy "
                           "or export the model again.");
    // Every pickle in the archive (data, constants, the code's debug records) walked before
    // LibTorch's unpickler trusts its lengths and memo indices (pickle_scan.h).
    std::string current;
    try {
        caffe2::serialize::PyTorchStreamReader reader(path);
        for (const auto& r : records) {
            if (r.size() < 3 || r.compare(r.size() - 3, 3, "pkl") != 0) continue;
            current = r;
            const auto [bytes, size] = reader.getRecord(r);
            const std::string damage = findPickleDamage(static_cast<const uint8_t*>(bytes.get()), size);
            if (!damage.empty())
                throw invalidInput("'" + path + "' is damaged: its record " + r + " holds " + damage +
                                   ", which no saved model has; export the model again.");
        }
    } catch (const c10::Error&) {
        throw invalidInput("'" + path + "' is truncated or damaged (its record " + current +
                           " cannot be read): copy or export the model again.");
    }
}


std::string shapeText(const at::Tensor& t) {
    std::string text;
    for (int64_t d : t.sizes()) text += (text.empty() ? "" : "x") + std::to_string(d);
    return text.empty() ? "scalar" : text;
}

// A weight that is NaN/Inf or has no elements would import, then poison every figure the app
// shows (or fail deep inside a kernel): refuse it here, naming the tensor.
void checkTensors(const std::string& path, const torch::jit::Module& module) {
    auto check = [&](const std::string& name, const at::Tensor& t, const char* what) {
        if (!t.is_floating_point()) return;  // integer buffers such as num_batches_tracked
        if (t.numel() == 0)
            throw invalidInput("'" + path + "' has a layer with no elements: " + what + " '" + name + "' has shape " +
                               shapeText(t) + "; remove the layer or give it at least one channel and export again.");
        const at::Tensor bad = at::logical_not(at::isfinite(t.detach()));
        const int64_t count = bad.sum().item<int64_t>();
        if (count == 0) return;
        int64_t first = bad.flatten().nonzero().min().item<int64_t>();
        const float value = t.detach().flatten()[first].item<float>();
        std::string index;  // the first bad element as [i, j, ...], as PyTorch would index it
        for (int64_t d = t.dim() - 1; d >= 0; --d) {
            index = std::to_string(first % t.size(d)) + (index.empty() ? "" : ", ") + index;
            first /= t.size(d);
        }
        throw invalidInput("'" + path + "' has " + std::to_string(count) + " non-finite value" +
                           (count == 1 ? "" : "s") + " (" + (std::isnan(value) ? "NaN" : "Inf") + " first, at [" + index + "]) in " + what + " '" + name + "': the model diverged in training or "
                           "was damaged; export it again from a checkpoint with finite weights.");
    };
    for (const auto& p : module.named_parameters(/*recurse=*/true)) check(p.name, p.value, "parameter");
    for (const auto& b : module.named_buffers(/*recurse=*/true)) check(b.name, b.value, "buffer");
}

}  // namespace

torch::jit::Module loadTorchScriptModule(const std::string& path) {
    checkContainer(path);
    torch::jit::Module module;
    try {
        module = torch::jit::load(path, c10::Device(c10::kCPU));
    } catch (const c10::Error& e) {
        throw invalidInput("'" + path + "' could not be loaded as TorchScript (" +
                           firstLine(e.what_without_backtrace()) +
                           "): export it again with the PyTorch version that made it.");
    } catch (const torch::jit::ErrorReport&) {
        // Its what() formats the source range of damaged code lazily and can itself throw from a
        // noexcept function, which terminates the process (found by fuzz_importer): not called.
        throw invalidInput("'" + path + "' holds TorchScript code that does not compile (the archive is damaged or "
                           "was edited): export the model again.");
    } catch (const std::bad_alloc&) {
        // A damaged record can claim a length of tens of GB, which LibTorch tries to allocate
        // (found by fuzz_importer).
        throw invalidInput("'" + path + "' claims a record larger than the memory can hold, so the archive is "
                           "damaged: export the model again.");
    } catch (const std::exception& e) {
        throw invalidInput("'" + path + "' could not be loaded as TorchScript (" + firstLine(e.what()) +
                           "): export it again.");
    }
    if (!module.find_method("forward"))
        throw invalidInput("'" + path + "' has no forward method: export the model (an nn.Module), not a "
                           "function or a library of methods.");
    const auto& schema = module.get_method("forward").function().getSchema();
    const size_t inputs = schema.arguments().size() - 1;  // minus self
    if (inputs != 1)
        throw invalidInput("'" + path + "' has a forward with " + std::to_string(inputs) +
                           " inputs; PTQ Studio quantizes models that take one image tensor: wrap the model "
                           "so that forward(x) takes a single tensor.");
    module.eval();
    checkTensors(path, module);
    return module;
}

std::vector<int64_t> guessInputShape(const std::string& path) {
    const torch::jit::Module module = loadTorchScriptModule(path);
    for (const auto& p : module.named_parameters(/*recurse=*/true)) {
        const at::Tensor& w = p.value;
        if (w.dim() == 4) {
            const int64_t c = w.size(1);
            return c == 3 ? std::vector<int64_t>{3, 224, 224} : std::vector<int64_t>{c, 28, 28};
        }
        if (w.dim() == 2) {
            const int64_t width = w.size(1);
            for (int64_t c : {int64_t(1), int64_t(3)}) {
                const auto k = int64_t(std::llround(std::sqrt(double(width / c))));
                if (k > 1 && c * k * k == width) return {c, k, k};
            }
            return {};
        }
    }
    return {};
}

Graph importTorchScript(const std::string& path, const std::vector<int64_t>& sampleShape) {
    const auto start = std::chrono::steady_clock::now();
    torch::jit::Module module = loadTorchScriptModule(path);  // file problems first
    if (sampleShape.empty())
        throw missingSetting("input shape", "No input shape is known for '" + path +
                                                "': neither its model card nor the file says what one sample is "
                                                "(channels, height, width).");
    for (auto d : sampleShape)
        if (d <= 0)
            throw invalidInput("The input shape has a dimension of " + std::to_string(d) +
                               "; every dimension must be positive.");
    auto graph = module.get_method("forward").graph()->copy();
    torch::jit::Inline(*graph);

    c10::InferenceMode inference;
    Graph result = interpretForward(*graph, module, sampleShape, path);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    logger()->info("Imported {}: {} nodes, {} parameters in {:.0f} ms", path, result.nodes().size(),
                   result.parameterCount(), ms);
    return result;
}

}  // namespace ptq
