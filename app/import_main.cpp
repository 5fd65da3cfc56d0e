// ptq-import: imports one TorchScript file in a process of its own, for ptq and ptq-studio
// (core/graph/import_process.h). A file that crashes LibTorch's reader takes only this process.
//
//   ptq-import import MODEL [C,H,W]   the graph (core/graph/graph_io.h) on standard output
//   ptq-import guess MODEL            the suggested input shape as "C,H,W" (empty line: none)
//
// Exit 0 on success. On a ptq::Error: 2 (bad input) or 1, with "error: <sentence>" and, for a
// missing setting, "setting: <name>" on standard error (and "detail: <text>" lines for the
// caller's log). Nothing else is written there: the log's console output is off.
#include "core/graph/graph_io.h"
#include "core/graph/import_process.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "core/util/runtime.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

int report(const ptq::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    if (!e.setting().empty()) std::fprintf(stderr, "setting: %s\n", e.setting().c_str());
    return e.kind() == ptq::Error::Kind::InvalidInput ? 2 : 1;
}

std::vector<int64_t> parseShape(const std::string& text) {
    std::vector<int64_t> shape;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        const std::string part = text.substr(start, end - start);
        size_t used = 0;
        long long d = 0;
        try {
            d = std::stoll(part, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (part.empty() || used != part.size())
            throw ptq::invalidInput("The input shape '" + text + "' is not a list of whole numbers such as 1,28,28.");
        shape.push_back(d);
        start = end + 1;
    }
    return shape;
}

bool writeAll(const std::string& bytes) {
    return std::fwrite(bytes.data(), 1, bytes.size(), stdout) == bytes.size() && std::fflush(stdout) == 0;
}

}  // namespace

int main(int argc, char** argv) {
    // A crash here is expected now and then (that is why this runs apart): no core dump of a
    // process holding a whole model.
    const rlimit noCore{0, 0};
    setrlimit(RLIMIT_CORE, &noCore);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // no orphan goes on reading when the caller is gone
    ptq::setConsoleLogLevel(spdlog::level::off);

    const std::vector<std::string> args(argv + 1, argv + argc);
    const bool import = args.size() >= 2 && args.size() <= 3 && args[0] == "import";
    const bool guess = args.size() == 2 && args[0] == "guess";
    if (!import && !guess) {
        std::fputs("usage: ptq-import import MODEL [C,H,W] | ptq-import guess MODEL\n"
                   "Imports one TorchScript or ONNX file for ptq and ptq-studio, which start it themselves.\n",
                   stderr);
        return 2;
    }
    ptq::initRuntime();
    try {
        if (import) {
            const std::vector<int64_t> shape = parseShape(args.size() == 3 ? args[2] : "");
            const ptq::Graph graph = ptq::importModelFile(args[1], shape);
            if (!writeAll(ptq::writeGraph(graph))) throw ptq::failed("The import helper could not send the graph back.");
        } else {
            const std::vector<int64_t> shape = ptq::guessModelInputShape(args[1]);
            std::string text;
            for (int64_t d : shape) text += (text.empty() ? "" : ",") + std::to_string(d);
            if (!writeAll(text + "\n")) throw ptq::failed("The import helper could not send the shape back.");
        }
        return 0;
    } catch (const ptq::Error& e) {
        return report(e);
    } catch (const std::exception& e) {
        // A library's own text is for the log (the caller logs "detail:" lines), not the sentence.
        std::fprintf(stderr, "detail: %s\n", e.what());
        return report(ptq::failed("Reading '" + args[1] + "' failed unexpectedly in the import helper: export the "
                                  "model again, or report it if this repeats."));
    }
}
