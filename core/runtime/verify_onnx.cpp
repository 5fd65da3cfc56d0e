// The ONNX importer's reference: ONNX Runtime (npm's onnxruntime-node) on the same batch.
#include "core/runtime/verify.h"

#include "core/graph/graph.h"
#include "core/graph/onnx_importer.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <chrono>
#include <cstring>
#include <regex>

namespace ptq {

namespace {

QString ortScript() {
    const QByteArray env = qgetenv("PTQ_ORT_RUN");
    if (!env.isEmpty()) return QString::fromLocal8Bit(env);
    return QStringLiteral(PTQ_SOURCE_TOOLS "/ort_run.js");
}

void writeNpy(const QString& file, const at::Tensor& x) {
    const at::Tensor c = x.to(at::kFloat).contiguous();
    std::string shape;
    for (int64_t d : c.sizes()) shape += std::to_string(d) + ", ";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
    while ((10 + header.size() + 1) % 64) header += ' ';
    header += '\n';
    QFile f(file);
    if (!f.open(QIODevice::WriteOnly)) throw failed("The verify batch could not be written to " + file.toStdString() + ".");
    const char magic[] = "\x93NUMPY\x01\x00";
    f.write(magic, 8);
    const uint16_t len = uint16_t(header.size());
    f.write(reinterpret_cast<const char*>(&len), 2);
    f.write(header.data(), qint64(header.size()));
    f.write(static_cast<const char*>(c.data_ptr()), qint64(c.nbytes()));
}

at::Tensor readNpy(const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) throw failed("ONNX Runtime wrote no output for the verify batch.");
    const QByteArray all = f.readAll();
    if (all.size() < 10 || !all.startsWith("\x93NUMPY")) throw failed("ONNX Runtime's output for the verify batch is damaged.");
    const int major = all[6];
    const int headerLen = major == 1 ? int(uint8_t(all[8])) | (int(uint8_t(all[9])) << 8) : 0;
    const int start = 10 + headerLen;
    const std::string header = all.mid(10, headerLen).toStdString();
    std::smatch m;
    if (major != 1 || !std::regex_search(header, m, std::regex("'shape': \\(([^)]*)\\)")))
        throw failed("ONNX Runtime's output for the verify batch is damaged.");
    std::vector<int64_t> shape;
    const std::string dims = m[1];
    const std::regex number("[0-9]+");
    for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
        shape.push_back(std::stoll(it->str()));
    at::Tensor t = at::empty(shape, at::kFloat);
    if (all.size() - start != qint64(t.nbytes())) throw failed("ONNX Runtime's output for the verify batch is damaged.");
    std::memcpy(t.data_ptr(), all.constData() + start, size_t(t.nbytes()));
    return t;
}

}  // namespace

VerifyResult verifyAgainstOnnxRuntime(const Graph& graph, const std::string& path, int64_t batch, uint64_t seed) {
    c10::InferenceMode guard;
    const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
    if (node.isEmpty())
        throw failed("Verifying an ONNX model runs ONNX Runtime under Node.js, and `node` is not on the PATH: install "
                     "nodejs and run tools/install-deps.sh.");
    const QString script = ortScript();
    if (!QFileInfo(script).isFile())
        throw failed("Verifying an ONNX model needs tools/ort_run.js, which is not at " + script.toStdString() +
                     ": set PTQ_ORT_RUN to it (it is in PTQ Studio's source tree).");
    const OnnxInputLayout layout = onnxInputLayout(path);
    const int64_t fixed = layout.fixedBatch;
    const int64_t chunk = fixed > 0 ? fixed : batch;
    if (fixed > 0) batch = (batch + fixed - 1) / fixed * fixed;
    std::vector<int64_t> shape{batch};
    const auto sample = graph.sampleShape(graph.inputValue());
    shape.insert(shape.end(), sample.begin(), sample.end());
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const at::Tensor input = at::normal(0.0, 1.0, shape, gen);

    VerifyResult r;
    r.batch = batch;
    auto t0 = std::chrono::steady_clock::now();
    const at::Tensor mine = Executor(graph).run(input).at(0).contiguous();
    r.executorMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

    QTemporaryDir dir;
    if (!dir.isValid()) throw failed("No temporary folder could be made for the verify batch.");
    const QString x = dir.filePath("x.npy"), y = dir.filePath("y.npy");
    // ONNX Runtime gets the batch in the file's own layout (NHWC for a tf2onnx-style input).
    writeNpy(x, layout.nhwc ? input.permute({0, 2, 3, 1}).contiguous() : input);
    QProcess p;
    t0 = std::chrono::steady_clock::now();
    p.start(node, {script, QString::fromStdString(path), "--data", x, "--logits", y, "--batch", QString::number(chunk)});
    if (!p.waitForStarted(30000) || !p.waitForFinished(1800000)) {
        p.kill();
        throw failed("ONNX Runtime did not finish the verify batch (Node.js did not start, or took over 30 minutes).");
    }
    r.torchScriptMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        const QString err = QString::fromLocal8Bit(p.readAllStandardError()).trimmed();
        logger()->debug("ort_run on {}: {}", path, err.toStdString());
        QString line = err.section('\n', 0, 0);
        if (line.startsWith("ort_run: ")) line = line.mid(9);
        throw failed("ONNX Runtime could not run " + path + " for the comparison" +
                     (line.isEmpty() ? std::string(".") : ": " + line.toStdString() + "."));
    }
    const at::Tensor theirs = readNpy(y).flatten();
    const at::Tensor ours = mine.flatten();
    if (theirs.numel() != ours.numel())
        throw failed("The executor's output has " + std::to_string(ours.numel()) + " values and ONNX Runtime's " +
                     std::to_string(theirs.numel()) + "; the import is wrong.");
    const double scale = std::max(theirs.abs().max().item<double>(), 1e-12);
    r.maxAbsoluteDiff = (ours - theirs).abs().max().item<double>();
    r.maxRelativeDiff = r.maxAbsoluteDiff / scale;
    return r;
}

}  // namespace ptq
