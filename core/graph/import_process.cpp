#include "core/graph/import_process.h"

#include "core/graph/onnx_importer.h"

#include "core/graph/graph_io.h"
#include "core/graph/torchscript_importer.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <QtCore/QByteArray>
#include <QtCore/QElapsedTimer>
#include <QtCore/QProcess>
#include <QtCore/QStringList>

#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#ifndef PTQ_BUILD_APP_DIR
#define PTQ_BUILD_APP_DIR ""
#endif

namespace ptq {

namespace {

namespace fs = std::filesystem;

constexpr const char* kHelperName = "ptq-import";
constexpr const char* kHelperVariable = "PTQ_IMPORT_HELPER";

bool isExecutableFile(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

fs::path runningProgramFolder() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

std::string signalName(int sig) {
    const char* name = ::strsignal(sig);
    std::string text = name ? name : "unknown signal";
    for (char& c : text) c = char(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string shapeArgument(const std::vector<int64_t>& shape) {
    std::string text;
    for (int64_t d : shape) text += (text.empty() ? "" : ",") + std::to_string(d);
    return text;
}

/// Runs the helper with @p args and returns its standard output when it exits 0; every other
/// end is thrown as the ptq::Error the in-process call would have thrown, or says what happened.
QByteArray runHelper(const std::string& helper, const QStringList& args, const std::string& path,
                     const Progress* progress, int timeoutSeconds) {
    QProcess proc;
    proc.setProgram(QString::fromStdString(helper));
    proc.setArguments(args);
    proc.setProcessChannelMode(QProcess::SeparateChannels);
    proc.setStandardInputFile(QProcess::nullDevice());
    QElapsedTimer clock;
    clock.start();
    proc.start(QIODevice::ReadOnly);
    if (!proc.waitForStarted(30000))
        throw failed("The import helper " + helper + " could not be started: reinstall PTQ Studio, or set " +
                     kHelperVariable + " to the path of a working ptq-import.");
    while (!proc.waitForFinished(50)) {
        if (proc.state() == QProcess::NotRunning) break;
        const bool cancel = progress && progress->isCancelled();
        const bool late = clock.elapsed() > qint64(timeoutSeconds) * 1000;
        if (cancel || late) {
            proc.kill();
            proc.waitForFinished(10000);
            if (cancel) throw Cancelled();
            throw failed("Reading '" + path + "' took longer than " + std::to_string(timeoutSeconds) +
                         " s, so it was stopped: the file may be damaged; export the model again.");
        }
    }
    const QByteArray out = proc.readAllStandardOutput();
    const QByteArray err = proc.readAllStandardError();
    if (progress && progress->isCancelled()) throw Cancelled();
    if (proc.exitStatus() == QProcess::CrashExit) {
        const int sig = proc.exitCode();  // Qt reports the signal's number for a crash
        // Ctrl-C in a terminal reaches the whole process group, the helper too: the user's cancel.
        if (sig == SIGINT || sig == SIGTERM) throw Cancelled();
        if (sig == SIGKILL)
            throw failed("Reading '" + path + "' was stopped from outside (signal 9, killed), perhaps because the "
                         "memory ran out: close other programs and open the model again.");
        throw invalidInput("Reading '" + path + "' crashed the TorchScript reader (signal " + std::to_string(sig) +
                           ", " + signalName(sig) + "): the file is damaged or was crafted; export the model again.");
    }
    const int code = proc.exitCode();
    if (code == 0) return out;
    if (code != 1 && code != 2)
        throw failed("The import helper stopped with exit code " + std::to_string(code) + " while reading '" + path +
                     "': open the model again, or reinstall PTQ Studio if this repeats.");
    // The helper's own lines: "error: <sentence>" and, for a missing setting, "setting: <name>".
    std::string message, setting;
    for (const QByteArray& line : err.split('\n')) {
        if (line.startsWith("error: ") && message.empty()) message = line.mid(7).toStdString();
        if (line.startsWith("setting: ") && setting.empty()) setting = line.mid(9).toStdString();
        if (line.startsWith("detail: ")) logger()->info("The import helper on {}: {}", path, line.mid(8).toStdString());
    }
    if (message.empty())
        message = "The import helper failed on '" + path + "' without saying why: open the model again, or "
                  "reinstall PTQ Studio if this repeats.";
    throw Error(code == 2 ? Error::Kind::InvalidInput : Error::Kind::Failed, message, setting);
}

void warnInProcess(const std::string& path) {
    logger()->warn("The import helper ptq-import was not found (next to this program, in ../lib/ptq-studio, or in "
                   "the build tree; {} can name it): reading {} in this process, where a crafted file can crash it.",
                   kHelperVariable, path);
}

}  // namespace

std::string importHelperPath() {
    if (const char* given = std::getenv(kHelperVariable); given && *given) {
        if (!isExecutableFile(given))
            throw failed(std::string("The import helper named by ") + kHelperVariable + " (" + given +
                         ") is not an executable file: point it at ptq-import, or unset it.");
        return given;
    }
    const fs::path here = runningProgramFolder();
    if (!here.empty()) {
        for (const fs::path& candidate : {here / kHelperName, here / ".." / "lib" / "ptq-studio" / kHelperName})
            if (isExecutableFile(candidate)) return fs::weakly_canonical(candidate).string();
    }
    const fs::path built = fs::path(PTQ_BUILD_APP_DIR) / kHelperName;
    if (!std::string(PTQ_BUILD_APP_DIR).empty() && isExecutableFile(built)) return built.string();
    return {};
}

Graph importModelFile(const std::string& path, const std::vector<int64_t>& sampleShape) {
    return isOnnxPath(path) ? importOnnx(path, sampleShape) : importTorchScript(path, sampleShape);
}

std::vector<int64_t> guessModelInputShape(const std::string& path) {
    return isOnnxPath(path) ? onnxInputShape(path) : guessInputShape(path);
}

Graph importTorchScriptIsolated(const std::string& path, const std::vector<int64_t>& sampleShape,
                                const Progress* progress, int timeoutSeconds) {
    const std::string helper = importHelperPath();
    if (helper.empty()) {
        warnInProcess(path);
        return importModelFile(path, sampleShape);
    }
    QElapsedTimer clock;
    clock.start();
    const QByteArray bytes = runHelper(
        helper, {"import", QString::fromStdString(path), QString::fromStdString(shapeArgument(sampleShape))}, path,
        progress, timeoutSeconds);
    Graph graph;
    try {
        graph = readGraph(bytes.constData(), size_t(bytes.size()));
    } catch (const Error& e) {
        throw failed("The import helper sent back a damaged graph for '" + path + "' (" + e.what() +
                     "): reinstall PTQ Studio, or report it if this repeats.");
    }
    logger()->info("Imported {} in the import helper: {} nodes, {} parameters in {} ms", path, graph.nodes().size(),
                   graph.parameterCount(), clock.elapsed());
    return graph;
}

std::vector<int64_t> guessInputShapeIsolated(const std::string& path, const Progress* progress, int timeoutSeconds) {
    const std::string helper = importHelperPath();
    if (helper.empty()) {
        warnInProcess(path);
        return guessModelInputShape(path);
    }
    const QByteArray out = runHelper(helper, {"guess", QString::fromStdString(path)}, path, progress, timeoutSeconds);
    std::vector<int64_t> shape;
    const QByteArray text = out.trimmed();
    if (text.isEmpty()) return shape;
    for (const QByteArray& part : text.split(',')) {
        bool ok = false;
        const qlonglong d = part.toLongLong(&ok);
        if (!ok || d <= 0 || shape.size() >= 8)
            throw failed("The import helper answered the input-shape question about '" + path +
                         "' with something else than a shape: reinstall PTQ Studio, or report it if this repeats.");
        shape.push_back(int64_t(d));
    }
    return shape;
}

}  // namespace ptq
