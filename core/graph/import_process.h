#pragma once
/// @file
/// Importing a model file in a child process. LibTorch's TorchScript reader trusts the file: a
/// crafted archive (one whose zip CRC-32s were rewritten to match its changed code, so
/// core/graph/zip_check.h passes it) can crash the reader with a signal, which would take the
/// whole program, and the GUI's unsaved session, with it. Here the import runs in the helper
/// executable `ptq-import` (app/import_main.cpp), which sends the graph back as bytes
/// (core/graph/graph_io.h); a crash of the helper becomes a ptq::Error.
///
/// Where the helper is looked for, first found wins:
///   1. the environment variable PTQ_IMPORT_HELPER (a path to the helper; when it is set, it must
///      name an executable file, else the import fails naming the variable);
///   2. the running program's folder (/proc/self/exe): <dir>/ptq-import;
///   3. the installed layout: <dir>/../lib/ptq-studio/ptq-import (the .deb installs it there);
///   4. the build tree's app folder (PTQ_BUILD_APP_DIR, compiled in), for tests and benchmarks.
/// When none exists, the import runs in this process as before, and a warning says so in the log
/// (a crafted file can then crash the program).
///
/// Threads: the calls are long and synchronous, for a worker thread (the one that calls
/// openModel); each drives its own QProcess and needs no event loop.

#include "core/graph/graph.h"
#include "core/util/progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

/// The helper's path as found above; empty when none is found. Throws ptq::Error (Failed) when
/// PTQ_IMPORT_HELPER is set to something that is not an executable file.
std::string importHelperPath();

/// The import in this process, by the file's extension: importOnnx (core/graph/onnx_importer.h)
/// for .onnx files, importTorchScript (core/graph/torchscript_importer.h) for the rest. What the
/// helper runs; the benchmarks compare it with the helper.
Graph importModelFile(const std::string& path, const std::vector<int64_t>& sampleShape);

/// onnxInputShape for .onnx files, guessInputShape for the rest, in this process.
std::vector<int64_t> guessModelInputShape(const std::string& path);

/// importModelFile in the helper (TorchScript or ONNX by extension): the same graph and the
/// same ptq::Error (kind, sentence and missing setting) for a bad file. A helper killed by a
/// signal is ptq::Error (InvalidInput) "Reading '...' crashed the TorchScript reader (signal 11,
/// segmentation fault): ...". @p progress is polled every 50 ms: a cancel kills the helper and
/// throws ptq::Cancelled. A helper that runs longer than @p timeoutSeconds is killed (Failed).
/// Falls back to the in-process import when no helper is found.
Graph importTorchScriptIsolated(const std::string& path, const std::vector<int64_t>& sampleShape,
                                const Progress* progress = nullptr, int timeoutSeconds = 900);

/// guessModelInputShape in the helper, with the same errors,
/// cancel and fallback as importTorchScriptIsolated.
std::vector<int64_t> guessInputShapeIsolated(const std::string& path, const Progress* progress = nullptr,
                                             int timeoutSeconds = 900);

}  // namespace ptq
