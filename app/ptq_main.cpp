// ptq: PTQ Studio's command line. Thin: parses the sub-command and hands over to app/cli.
#include "cli/commands.h"
#include "cli/terminal_progress.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "core/util/runtime.h"

#include <QtCore/QCoreApplication>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    // Sleeping OpenMP threads: on a shared machine spinning ones made distillation 2.7 times
    // slower and an evaluation 3.0 times (docs/RESULTS.md, "OpenMP wait policy").
    ptq::preferPassiveOpenMpWait(argv);
    // No QGuiApplication: nothing here needs a platform plugin (QImage, which `ptq distill
    // --png` draws with, works without one), so ptq runs with no display.
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("ptq");
    QCoreApplication::setOrganizationName("PTQ Studio");
    QCoreApplication::setApplicationVersion(PTQ_VERSION);

    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(ptq::cli::usage().c_str(), args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "-V") {
        std::printf("ptq %s\n", PTQ_VERSION);
        return 0;
    }
    const std::map<std::string, std::function<int(const std::vector<std::string>&)>> commands = {
        {"info", ptq::cli::runInfo},
        {"graph", ptq::cli::runGraph},
        {"bench", ptq::cli::runBench},
        {"quantize", ptq::cli::runQuantize},
        {"sensitivity", ptq::cli::runSensitivity},
        {"distill", ptq::cli::runDistill},
        {"export", ptq::cli::runExport},
        {"allocate", ptq::cli::runAllocate},
        {"anchors", ptq::cli::runAnchors},
        {"pareto", ptq::cli::runPareto},
        {"evaluate", ptq::cli::runEvaluate},
        {"targets", ptq::cli::runTargets},
    };
    const auto it = commands.find(args[0]);
    if (it == commands.end()) {
        std::fprintf(stderr, "ptq: unknown command '%s'; run 'ptq --help' for the list.\n", args[0].c_str());
        return 2;
    }
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    for (const auto& a : rest)
        if (a == "--help" || a == "-h") {
            std::fputs(ptq::cli::usage().c_str(), stdout);
            return 0;
        }
    ptq::initRuntime();
    // A debug log for bug reports: what a failure inside a library said (ptq::userMessage).
    if (const char* logFile = std::getenv("PTQ_LOG_FILE"); logFile && *logFile) ptq::addLogFile(logFile);
    try {
        return it->second(rest);
    } catch (const ptq::Error& e) {
        // 130, as a shell reports a program stopped by Ctrl-C: scripts tell a cancel from a failure.
        if (e.kind() == ptq::Error::Kind::Cancelled) {
            std::fprintf(stderr, "ptq: %s\n", ptq::cli::cancelledMessage().c_str());
            return 130;
        }
        std::string how;
        if (e.setting() == "input shape")
            how = " Give --input-shape C,H,W (for example 3,224,224), or a sidecar MODEL.json with input_shape.";
        else if (e.setting() == "skip bad images")
            how = " Give --skip-bad to leave unreadable images out and count them.";
        std::fprintf(stderr, "ptq: %s%s\n", e.what(), how.c_str());
        return e.kind() == ptq::Error::Kind::InvalidInput ? 2 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ptq: failed: %s\n", ptq::userMessage(e).c_str());
        return 1;
    }
}
