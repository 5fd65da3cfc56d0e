// Quantized TorchScript export: the file holds the quantized weights exactly, and real PyTorch
// (Debian's python3-torch) gets the app's weight-only top-1 on the Fashion-MNIST test set.
#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/io/torchscript_export.h"
#include "core/methods/bn_tuning.h"
#include "core/model/model_card.h"
#include "core/model/torchscript_eval.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <torch/script.h>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtTest/QtTest>

using namespace ptq;

namespace {
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";
}  // namespace

class TestTorchScriptExport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void pytorchMatchesTheWeightOnlyRun();
    void anotherModelIsRefused();

private:
    QTemporaryDir dir_;
};

void TestTorchScriptExport::pytorchMatchesTheWeightOnlyRun() {
    Graph g = importTorchScript(demo, {1, 28, 28});
    foldBatchNorms(g);
    const Normalization norm = Normalization::fromModelCard(*loadModelCard(demo));
    const auto calib = openDataSource("fmnist:train:256", norm, {1, 28, 28});
    const auto eval = openDataSource("fmnist:test", norm, {1, 28, 28});
    // 3-bit weights (a visible change from FP32), activations float, biases corrected: the file
    // must carry both the quantized weights and the tuned biases.
    QuantConfig weightOnly = QuantConfig::uniform(g, 3, 8, Granularity::PerChannel, false);
    for (auto& [name, layer] : weightOnly.layers) layer.activationBits = 32;
    QuantizedModel m(g, weightOnly);
    m.calibrate(*calib);
    QVERIFY(correctBiases(m, *calib) > 0);
    const Executor ex(g);
    const EvalResult app = evaluate(ex, *eval, m.hooks());
    const EvalResult fp = evaluate(ex, *eval);
    qInfo("FP32 %.2f, app weight-only W3 %.2f", fp.top1(), app.top1());
    QVERIFY(std::abs(app.top1() - fp.top1()) > 0.1);  // the quantization shows

    const QString out = dir_.filePath("w3.pt");
    const TorchScriptExportReport report = exportQuantizedTorchScript(demo, m, out.toStdString());
    QCOMPARE(report.layers, 22);
    QCOMPARE(report.batchNormsAbsorbed, 21);
    // The conv's weight in the file is exactly the quantized folded weight.
    torch::jit::Module saved = torch::jit::load(out.toStdString());
    for (const auto& p : saved.named_parameters(true))
        if (p.name == "layer2.0.conv1.weight") QVERIFY(at::equal(p.value, m.runWeight("layer2.0.conv1")));
    // LibTorch's own forward of the file and real PyTorch agree with the app's run.
    const Top1Result lib = torchScriptTop1(out.toStdString(), *eval);
    QVERIFY2(std::abs(lib.percent() - app.top1()) <= 0.05, qPrintable(QString("%1 vs %2").arg(lib.percent()).arg(app.top1())));
    QProcess py;
    py.start(PTQ_PYTHON, {PTQ_SOURCE_DIR "/tools/eval_torchscript.py", out, "--card",
                          PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.json"});
    QVERIFY(py.waitForFinished(300000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    const QJsonObject o = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
    qInfo("PyTorch on the exported file: %.2f", o["top1"].toDouble());
    QCOMPARE(o["total"].toInt(), 10000);
    QVERIFY2(std::abs(o["top1"].toDouble() - app.top1()) <= 0.05,
             qPrintable(QString("PyTorch %1 vs app %2").arg(o["top1"].toDouble()).arg(app.top1())));
}

void TestTorchScriptExport::anotherModelIsRefused() {
    Graph g = importTorchScript(demo, {1, 28, 28});
    foldBatchNorms(g);
    const auto calib = openDataSource("fmnist:train:32", Normalization::fashionMnist(), {1, 28, 28});
    QuantizedModel m(g, QuantConfig::uniform(g, 8, 8, Granularity::PerChannel, false));
    m.calibrate(*calib);
    const std::string other = PTQ_SOURCE_DIR "/resources/models/mobilenetv2_fmnist.pt";
    try {
        exportQuantizedTorchScript(other, m, dir_.filePath("x.pt").toStdString());
        QFAIL("no error");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains("not the model the quantization was made from") ||
                     QString(e.what()).contains("another shape"),
                 e.what());
    }
    QVERIFY(!QFile::exists(dir_.filePath("x.pt")));  // nothing half-written
}

QTEST_GUILESS_MAIN(TestTorchScriptExport)
#include "test_torchscript_export.moc"
