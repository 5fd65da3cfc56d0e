// ONNX export (core/io/onnx_export.h) checked by a real consumer: ONNX Runtime (npm's
// onnxruntime-node, driven by tools/ort_run.js) runs the files `ptq export` writes on the
// Fashion-MNIST test images the app evaluates, and libonnx's checker and shape inference read
// every file back. PTQ_ONNX_IMAGES sets how many test images (the default test: 2000; the slow
// one: all 10,000).
#include <ATen/ATen.h>  // before Qt's headers (their `slots` macro)

#include "core/data/data_source.h"
#include "core/graph/graph.h"
#include "core/io/onnx_export.h"
#include "core/onnx/onnx_model.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/runtime.h"
#include "core/workflow/model.h"

#include "../ptq_process.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <fstream>
#include <map>

using namespace ptq;
using ptqtest::Run;

namespace {

const QString kModels = PTQ_SOURCE_DIR "/resources/models/";
const QString kOrtRun = PTQ_SOURCE_DIR "/tools/ort_run.js";

QString modelPath(const QString& name) { return kModels + name + "_fmnist.pt"; }

void writeNpy(const QString& path, const char* descr, const std::vector<int64_t>& shape, const void* data,
              size_t bytes) {
    std::string dims;
    for (int64_t d : shape) dims += std::to_string(d) + ", ";
    if (shape.size() > 1) dims.resize(dims.size() - 2);
    std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::ofstream f(path.toStdString(), std::ios::binary);
    f.write("\x93NUMPY\x01\x00", 8);
    const uint16_t len = uint16_t(header.size());
    f.write(reinterpret_cast<const char*>(&len), 2);
    f << header;
    f.write(static_cast<const char*>(data), std::streamsize(bytes));
}

onnx::FileSummary checkFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) throw failed("cannot read " + path.toStdString());
    const QByteArray bytes = f.readAll();
    return onnx::checkBytes(std::string(bytes.constData(), size_t(bytes.size())));
}

}  // namespace

class TestOnnxExport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void fp32MatchesTheExecutor_data();
    void fp32MatchesTheExecutor();
    void qdqMatchesTheAppTop1_data();
    void qdqMatchesTheAppTop1();
    void qdqFileHoldsTheAppsIntegers();
    void unmappedOpIsOneSentence();
    void badPathLeavesNothing();

private:
    struct Data {
        QString images, labels, fp32Logits;
    };
    /// The first images_ test images as the model reads them, their labels and the executor's
    /// FP32 logits, as .npy files (made once per model).
    const Data& data(const QString& model);
    QJsonObject ortRun(const QString& onnxFile, const Data& d, bool withReference, bool qdqFusions = true);

    QTemporaryDir dir_;
    QString node_;
    int images_ = 2000;
    std::map<QString, Data> data_;
};

void TestOnnxExport::initTestCase() {
    initRuntime();
    QVERIFY(dir_.isValid());
    node_ = QStandardPaths::findExecutable(QStringLiteral("node"));
    QVERIFY2(!node_.isEmpty(), "Node.js is not installed: run tools/install-deps.sh");
    QVERIFY2(QFile::exists(PTQ_SOURCE_DIR "/tools/node_modules/onnxruntime-node/package.json"),
             "onnxruntime-node is not installed in tools/node_modules: run tools/install-deps.sh");
    if (qEnvironmentVariableIsSet("PTQ_ONNX_IMAGES")) images_ = qEnvironmentVariableIntValue("PTQ_ONNX_IMAGES");
    qInfo("on the first %d Fashion-MNIST test images", images_);
}

const TestOnnxExport::Data& TestOnnxExport::data(const QString& model) {
    auto it = data_.find(model);
    if (it != data_.end()) return it->second;
    ModelRequest request;
    request.path = modelPath(model).toStdString();
    const auto loaded = openModel(request);
    const auto set = loaded->openData(parseDataSource("fmnist:test:" + std::to_string(images_)));
    const int64_t n = set->size();
    std::vector<int64_t> shape{n};
    for (int64_t d : set->sampleShape()) shape.push_back(d);
    std::vector<float> x(static_cast<size_t>(n * set->sampleElements()));
    std::vector<int64_t> y(static_cast<size_t>(n));
    set->read(0, n, x.data(), y.data());
    const Executor ex(loaded->graph());
    at::Tensor logits;
    {
        const c10::InferenceMode guard;
        std::vector<at::Tensor> parts;
        const at::Tensor all = at::from_blob(x.data(), shape, at::kFloat);
        for (int64_t from = 0; from < n; from += 250)
            parts.push_back(ex.run(all.slice(0, from, std::min(n, from + 250))).at(0));
        logits = at::cat(parts).contiguous();
    }
    Data d;
    d.images = dir_.filePath(model + "_x.npy");
    d.labels = dir_.filePath(model + "_y.npy");
    d.fp32Logits = dir_.filePath(model + "_logits.npy");
    writeNpy(d.images, "<f4", shape, x.data(), x.size() * sizeof(float));
    writeNpy(d.labels, "<i8", {n}, y.data(), y.size() * sizeof(int64_t));
    writeNpy(d.fp32Logits, "<f4", {logits.size(0), logits.size(1)}, logits.data_ptr(), size_t(logits.nbytes()));
    return data_[model] = d;
}

QJsonObject TestOnnxExport::ortRun(const QString& onnxFile, const Data& d, bool withReference, bool qdqFusions) {
    QStringList args{kOrtRun, onnxFile, "--data", d.images, "--labels", d.labels, "--batch", "250"};
    if (!qdqFusions) args << "--qdq-fusions" << "off";
    if (withReference) args << "--reference" << d.fp32Logits;
    const Run r = ptqtest::run(node_, args);
    if (r.exitCode != 0) qWarning("%s", qPrintable(r.err));
    return r.exitCode == 0 ? r.json() : QJsonObject();
}

void TestOnnxExport::fp32MatchesTheExecutor_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("resnet20") << "resnet20";
    QTest::newRow("mobilenetv2") << "mobilenetv2";
}

void TestOnnxExport::fp32MatchesTheExecutor() {
    QFETCH(QString, model);
    const QString out = dir_.filePath(model + "_fp32.onnx");
    const Run e = ptqtest::ptq({"export", modelPath(model), "--format", "onnx-fp32", "-o", out});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    const onnx::FileSummary s = checkFile(out);
    QCOMPARE(s.opset, int64_t(13));
    QVERIFY(!s.opCounts.count("QuantizeLinear"));
    QVERIFY(!s.opCounts.count("BatchNormalization"));  // folded, as the executor runs it
    QCOMPARE(s.inputs.at(0).shape.at(0), int64_t(-1));   // any batch size
    const QJsonObject o = ortRun(out, data(model), true);
    QVERIFY2(!o.isEmpty(), "ONNX Runtime did not run the file");
    qInfo("%s FP32: ONNX Runtime top-1 %.2f %% on %d images, largest logit difference from the executor %.3g",
          qPrintable(model), o["top1"].toDouble(), o["images"].toInt(), o["max_abs_diff"].toDouble());
    QCOMPARE(o["images"].toInt(), images_);
    QVERIFY2(o["max_abs_diff"].toDouble() <= 1e-4, qPrintable(QString::number(o["max_abs_diff"].toDouble())));
}

void TestOnnxExport::qdqMatchesTheAppTop1_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QStringList>("bits");
    for (const QString m : {"resnet20", "mobilenetv2"}) {
        QTest::newRow(qPrintable(m + " W8A8 per-channel"))
            << m << QStringList{"--w", "8", "--a", "8", "--granularity", "per-channel"};
        QTest::newRow(qPrintable(m + " mixed 0.16")) << m << QStringList{"alloc"};
    }
    // Below 8 bits on both sides: the clamped integers and the activations' clip to the 4-bit grid.
    QTest::newRow("resnet20 W4A4 per-channel") << "resnet20" << QStringList{"--w", "4", "--a", "4"};
}

void TestOnnxExport::qdqMatchesTheAppTop1() {
    QFETCH(QString, model);
    QFETCH(QStringList, bits);
    const QString tag = QString(QTest::currentDataTag()).replace(' ', '_');
    if (bits == QStringList{"alloc"}) {  // ptq sensitivity -> ptq allocate at 0.16 of the FP32 size
        const QString table = dir_.filePath(model + "_table.json"), alloc = dir_.filePath(model + "_alloc.json");
        Run r = ptqtest::ptq({"sensitivity", modelPath(model), "--calib", "fmnist:train:256", "--options",
                              "w2a8,w4a8,w8a8", "--out", table});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        r = ptqtest::ptq({"allocate", "--table", table, "--max-size-ratio", "0.16", "--out", alloc});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        bits = QStringList{"--alloc", alloc};
    }
    const QString out = dir_.filePath(tag + ".onnx");
    const QString source = "fmnist:test:" + QString::number(images_);
    const Run e = ptqtest::ptq(QStringList{"export", modelPath(model), "--calib", "fmnist:train:256", "--eval", source,
                                           "--format", "onnx", "-o", out, "--json"} + bits);
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    const double app = e.json()["quant_top1"].toDouble();
    const onnx::FileSummary s = checkFile(out);
    QVERIFY(s.opCounts.count("QuantizeLinear") && s.opCounts.count("DequantizeLinear"));
    // As written (ONNX Runtime's QDQ fusions off: float kernels on the dequantized values, what
    // the app simulates): within 0.1 pt of the app.
    const QJsonObject o = ortRun(out, data(model), false, false);
    QVERIFY2(!o.isEmpty(), "ONNX Runtime did not run the file");
    // ONNX Runtime's default: integer kernels, float biases rounded to int32 at input x weight
    // scale (which the app's fake-quant does not model): a few images near a decision boundary
    // change, reported and held to 0.5 pt.
    const QJsonObject fused = ortRun(out, data(model), false, true);
    QVERIFY2(!fused.isEmpty(), "ONNX Runtime did not run the file");
    qInfo("%s: app (fake-quantized) top-1 %.2f %%, ONNX Runtime %.2f %% as written, %.2f %% with its QDQ fusions, on "
          "%d images (FP32 %.2f %%)",
          QTest::currentDataTag(), app, o["top1"].toDouble(), fused["top1"].toDouble(), o["images"].toInt(),
          e.json()["fp32_top1"].toDouble());
    QCOMPARE(o["images"].toInt(), images_);
    QVERIFY2(std::abs(o["top1"].toDouble() - app) <= 0.1 + 1e-9,
             qPrintable(QString("ONNX Runtime %1 vs app %2").arg(o["top1"].toDouble()).arg(app)));
    QVERIFY2(std::abs(fused["top1"].toDouble() - app) <= 0.5 + 1e-9,
             qPrintable(QString("ONNX Runtime with QDQ fusions %1 vs app %2").arg(fused["top1"].toDouble()).arg(app)));
}

void TestOnnxExport::qdqFileHoldsTheAppsIntegers() {
    // ResNet-20 at W3A8, weights per channel: the weight integers stay inside the 3-bit grid
    // [-4, 3]; every quantized layer has one QuantizeLinear/DequantizeLinear pair on its input and a
    // DequantizeLinear on its weight; the metadata records the real bits.
    const QString out = dir_.filePath("w3.onnx");
    const Run e = ptqtest::ptq({"export", modelPath("resnet20"), "--calib", "fmnist:train:64", "--w", "3", "--a", "8",
                                "--format", "onnx", "-o", out});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    QVERIFY2(e.out.contains("ONNX QDQ"), qPrintable(e.out));
    const onnx::FileSummary s = checkFile(out);
    QCOMPARE(s.opCounts.at("QuantizeLinear"), 22);         // 22 conv/linear layers
    QCOMPARE(s.opCounts.at("DequantizeLinear"), 22 + 22);  // their inputs and their weights
    QCOMPARE(s.initializerTypes.at("int8"), 22 + 22);      // weights and their zero points
    QCOMPARE(s.initializerTypes.at("uint8"), 22);          // the activations' zero points
    QVERIFY(s.metadata.at("ptq_studio.layer_bits").find("conv1=w3a8") != std::string::npos);
    // The weights are the app's clamped 3-bit integers, on the whole grid, inside int8.
    int weights = 0, lowest = 0, highest = 0;
    for (const auto& [name, range] : s.integerRanges) {
        if (name.size() < 10 || name.compare(name.size() - 10, 10, "_quantized") != 0) continue;
        ++weights;
        QVERIFY2(range.first >= -4 && range.second <= 3, name.c_str());
        lowest = std::min(lowest, range.first);
        highest = std::max(highest, range.second);
    }
    QCOMPARE(weights, 22);
    QCOMPARE(lowest, -4);
    QCOMPARE(highest, 3);
    QVERIFY(s.metadata.count("ptq_studio.normalization.mean"));
}

void TestOnnxExport::unmappedOpIsOneSentence() {
    Graph g;
    const int x = g.addInput("input", {1, 4, 8, 8});
    const int n = g.addNode(OpKind::ChannelShuffle, "stage2.shuffle", "stage2", {x}, {{"groups", int64_t(2)}},
                            {{1, 4, 8, 8}});
    g.setOutputs({g.node(n).outputs[0]});
    const QString out = dir_.filePath("shuffle.onnx");
    try {
        exportFloatOnnx(g, out.toStdString());
        QFAIL("an op without an ONNX mapping was written");
    } catch (const Error& e) {
        const QString what = e.what();
        QVERIFY2(what.contains("'stage2.shuffle'") && what.count('.') <= 2 && !what.contains('\n'), qPrintable(what));
    }
    QVERIFY(!QFile::exists(out));
}

void TestOnnxExport::badPathLeavesNothing() {
    // A folder that is a file: one sentence, exit 2, nothing written there or beside it.
    const QString blocker = dir_.filePath("not_a_folder");
    QFile f(blocker);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    for (const QStringList& args :
         {QStringList{"export", modelPath("resnet20"), "--format", "onnx-fp32", "-o", blocker + "/m.onnx"},
          QStringList{"export", modelPath("resnet20"), "--calib", "fmnist:train:16", "--format", "onnx", "-o",
                      blocker + "/m.onnx"},
          QStringList{"quantize", modelPath("resnet20"), "--calib", "fmnist:train:16", "--eval", "fmnist:test:16",
                      "-o", "/proc/m.onnx"}}) {
        const Run r = ptqtest::ptq(args);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("Could not write") && !r.err.trimmed().contains('\n'), qPrintable(r.err));
    }
    QCOMPARE(QFileInfo(blocker).size(), qint64(0));
    QVERIFY(!QFile::exists("/proc/m.onnx"));
    // An existing file is replaced whole or not at all: a failed export keeps the old bytes.
    const QString kept = dir_.filePath("kept.onnx");
    QFile k(kept);
    QVERIFY(k.open(QIODevice::WriteOnly));
    k.write("old");
    k.close();
    const Run r = ptqtest::ptq({"export", modelPath("resnet20"), "--format", "onnx-fp32", "--calib", "fmnist:train:8",
                                "-o", kept});
    QCOMPARE(r.exitCode, 2);  // --calib is refused for the FP32 export, before anything is written
    QFile back(kept);
    QVERIFY(back.open(QIODevice::ReadOnly));
    QCOMPARE(back.readAll(), QByteArray("old"));
}

QTEST_GUILESS_MAIN(TestOnnxExport)
#include "test_onnx_export.moc"
