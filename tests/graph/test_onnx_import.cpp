// ONNX import (core/graph/onnx_importer.h) on files a user brings: torchvision's CNN zoo written by
// torch.onnx.export at test time (Debian's python3-torch, tools/make_onnx_zoo.py) at opsets 11, 13
// and 17 and with a dynamic batch, a model with external data, and the files this app's own
// `ptq export --format onnx-fp32` writes. The reference is ONNX Runtime (npm's onnxruntime-node
// through tools/ort_run.js): `ptq graph --verify` runs both on the same batch. Bad files each get
// one sentence and exit 2.
#include <ATen/ATen.h>  // before Qt's headers (their `slots` macro)

#include "core/graph/graph.h"
#include "core/graph/onnx_importer.h"
#include "core/graph/torchscript_importer.h"
#include "core/onnx/onnx_reader.h"
#include "core/runtime/verify.h"
#include "core/util/error.h"
#include "core/workflow/model.h"

#include "../ptq_process.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <map>
#include <set>

using namespace ptq;
using ptqtest::Run;

namespace {

const QString kZoo = PTQ_FIXTURE_DIR "/onnx/";
const QString kModels = PTQ_SOURCE_DIR "/resources/models/";

/// Conv, ConvTranspose, Gemm and MatMul nodes of the file as ONNX's own reader sees them: the
/// layers the import must find (the CNN zoo has no matmul of two activations).
int weightLayersInFile(const QString& path) {
    const onnx::ReadModel m = onnx::readModelFile(path.toStdString());
    static const std::set<std::string> ops = {"Conv", "ConvTranspose", "Gemm", "MatMul"};
    int n = 0;
    for (const auto& node : m.nodes) n += ops.count(node.op) ? 1 : 0;
    return n;
}

std::vector<std::string> layerNames(const Graph& g) {
    std::vector<std::string> names;
    for (int id : g.allocationNodes()) names.push_back(g.node(id).name);
    return names;
}

/// `ptq graph FILE --verify --json` and its verify object; fails the test on anything but success.
QJsonObject verifyWithPtq(const QString& path, const QStringList& extra = {}) {
    const Run r = ptqtest::ptq(QStringList{"graph", path, "--verify", "--json", "--batch", "2"} + extra);
    if (r.exitCode != 0) qWarning("%s", qPrintable(r.err));
    return r.exitCode == 0 ? r.json() : QJsonObject{};
}

/// The one line ptq printed on stderr, without its "ptq: " prefix and notes.
QString errorLine(const Run& r) {
    QStringList lines;
    for (const QString& l : r.err.split('\n', Qt::SkipEmptyParts))
        if (!l.startsWith("ptq: note:")) lines << l;
    return lines.size() == 1 ? lines[0] : QString("<%1 lines> %2").arg(lines.size()).arg(r.err);
}

}  // namespace

class TestOnnxImport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void zooVerifiesAgainstOnnxRuntime_data();
    void zooVerifiesAgainstOnnxRuntime();
    void layerNamesFollowTheModules();
    void exportsComeBack_data();
    void exportsComeBack();
    void exportedModelQuantizesAsTheOriginal();
    void externalData();
    void tf2onnxNhwcInput();
    void dynamicHeightWidthWithAShape();
    void badFilesAreOneSentence_data();
    void badFilesAreOneSentence();

private:
    QTemporaryDir tmp_;
};

void TestOnnxImport::initTestCase() {
    QVERIFY2(QFile::exists(kZoo + "resnet18_op13.onnx"), "the ONNX fixtures (make_fixtures_onnx) are missing");
    QVERIFY(tmp_.isValid());
}

void TestOnnxImport::zooVerifiesAgainstOnnxRuntime_data() {
    QTest::addColumn<QString>("file");
    const QRegularExpression exported("^[a-z0-9_]+_op1[0-9](_dyn)?\\.onnx$");
    int n = 0;
    for (const QString& f : QDir(kZoo).entryList({"*.onnx"}, QDir::Files, QDir::Name))
        if (exported.match(f).hasMatch() && !f.startsWith("bad_")) {
            QTest::newRow(qPrintable(f)) << f;
            ++n;
        }
    QVERIFY(n >= 10);
}

void TestOnnxImport::zooVerifiesAgainstOnnxRuntime() {
    QFETCH(QString, file);
    const QString path = kZoo + file;
    const QJsonObject o = verifyWithPtq(path);
    QVERIFY2(!o.isEmpty(), "ptq graph --verify failed");
    const QJsonObject v = o["verify"].toObject();
    QCOMPARE(v["reference"].toString(), QString("onnxruntime"));
    const double rel = v["max_relative_diff"].toDouble(1.0);
    QVERIFY2(rel <= 1e-4, qPrintable(QString("largest relative difference %1").arg(rel)));
    QVERIFY(v["max_absolute_diff"].toDouble(-1.0) >= 0.0);
    QCOMPARE(o["quantizable_layers"].toInt(), weightLayersInFile(path));
}

void TestOnnxImport::layerNamesFollowTheModules() {
    const Graph g = importOnnx((kZoo + "resnet18_op13.onnx").toStdString(), {});
    const std::vector<std::string> names = layerNames(g);
    QCOMPARE(int(names.size()), 21);
    for (const char* want : {"conv1", "layer1.0.conv1", "layer2.0.downsample.0", "layer4.1.conv2", "fc"})
        QVERIFY2(std::find(names.begin(), names.end(), want) != names.end(), want);
    QCOMPARE(g.sampleShape(g.inputValue()), (std::vector<int64_t>{3, 112, 112}));
    // initializers are parameters: the import holds every float weight of the file, no more; an
    // initializer the exporter shares between two layers through an Identity (equal biases) is
    // each layer's own parameter
    const onnx::ReadModel file = onnx::readModelFile((kZoo + "resnet18_op13.onnx").toStdString());
    std::map<std::string, int64_t> floats;
    int64_t inFile = 0;
    for (const onnx::ReadTensor& t : file.initializers)
        if (t.elemType == 1) inFile += floats[t.name] = t.count();  // TensorProto::FLOAT
    for (const onnx::ReadNode& n : file.nodes)
        if (n.op == "Identity" && floats.count(n.inputs.at(0))) inFile += floats[n.inputs[0]];
    QVERIFY(inFile > 11000000);
    QCOMPARE(g.parameterCount(), inFile);
}

void TestOnnxImport::exportsComeBack_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("shape");  // for --input-shape; "" when the sidecar gives it
    QTest::newRow("demo resnet20") << kModels + "resnet20_fmnist.pt" << "";
    QTest::newRow("demo mobilenetv2") << kModels + "mobilenetv2_fmnist.pt" << "";
    QTest::newRow("demo vit") << kModels + "vit_fmnist.pt" << "";
    for (const char* name : {"resnet18", "mobilenet_v2", "efficientnet_b0"})
        QTest::newRow(qPrintable(QString("torchvision ") + name)) << kZoo + name + ".pt" << "3,112,112";
}

// `ptq export --format onnx-fp32` of a TorchScript model: ONNX Runtime on the file agrees with the
// executor on the TorchScript model, the file imports back with the same layers under the same
// names, and ONNX Runtime agrees with the imported file too.
void TestOnnxImport::exportsComeBack() {
    QFETCH(QString, model);
    QFETCH(QString, shape);
    const QString out = tmp_.filePath(QFileInfo(model).completeBaseName() + ".onnx");
    QStringList args = {"export", model, "--format", "onnx-fp32", "-o", out};
    std::vector<int64_t> sample;
    if (!shape.isEmpty()) {
        args << "--input-shape" << shape;
        for (const QString& d : shape.split(',')) sample.push_back(d.toLongLong());
    }
    const Run e = ptqtest::ptq(args);
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));

    ModelRequest request;
    request.path = model.toStdString();
    request.inputShape = sample;
    const Graph source = importTorchScript(model.toStdString(), effectiveModelCard(request).inputShape);
    const VerifyResult exported = verifyAgainstOnnxRuntime(source, out.toStdString(), 2, 7);
    QVERIFY2(exported.maxRelativeDiff <= 1e-4,
             qPrintable(QString("executor against ONNX Runtime on the export: %1").arg(exported.maxRelativeDiff)));

    const Graph back = importOnnx(out.toStdString(), {});
    QCOMPARE(back.sampleShape(back.inputValue()), source.sampleShape(source.inputValue()));
    QCOMPARE(layerNames(back), layerNames(source));

    const QJsonObject o = verifyWithPtq(out);
    QVERIFY2(!o.isEmpty(), "ptq graph --verify failed on the export");
    const double rel = o["verify"].toObject()["max_relative_diff"].toDouble(1.0);
    QVERIFY2(rel <= 1e-4, qPrintable(QString("imported export against ONNX Runtime: %1").arg(rel)));
}

// The export carries the normalization in its metadata: `ptq quantize` on the .onnx, with no
// sidecar and no preset, scores what it scores on the TorchScript file with its sidecar.
void TestOnnxImport::exportedModelQuantizesAsTheOriginal() {
    const QString pt = kModels + "resnet20_fmnist.pt";
    const QString out = tmp_.filePath("r20_quantize.onnx");
    QVERIFY(ptqtest::ptq({"export", pt, "--format", "onnx-fp32", "-o", out}).exitCode == 0);
    const QStringList args = {"--calib", "fmnist:train:128", "--eval", "fmnist:test:400", "--w", "8", "--a", "8", "--json"};
    const Run a = ptqtest::ptq(QStringList{"quantize", pt} + args);
    const Run b = ptqtest::ptq(QStringList{"quantize", out} + args);
    QVERIFY2(a.exitCode == 0, qPrintable(a.err));
    QVERIFY2(b.exitCode == 0, qPrintable(b.err));
    QVERIFY2(!b.err.contains("no normalization is known"), qPrintable(b.err));
    for (const char* key : {"fp32_top1", "quant_top1"}) {
        const double x = a.json()[key].toDouble(-1), y = b.json()[key].toDouble(-2);
        QVERIFY2(x > 80.0, qPrintable(QString("%1 %2").arg(key).arg(x)));
        QVERIFY2(std::abs(x - y) <= 0.25 + 1e-9, qPrintable(QString("%1: TorchScript %2, ONNX %3").arg(key).arg(x).arg(y)));
    }
}

void TestOnnxImport::externalData() {
    const QJsonObject o = verifyWithPtq(kZoo + "small_ext.onnx");
    QVERIFY2(!o.isEmpty(), "ptq graph --verify failed on the external-data model");
    QVERIFY(o["verify"].toObject()["max_relative_diff"].toDouble(1.0) <= 1e-4);
    // moved without its data file: one sentence naming the file
    QFile::copy(kZoo + "small_ext.onnx", tmp_.filePath("alone.onnx"));
    const Run r = ptqtest::ptq({"info", tmp_.filePath("alone.onnx")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(errorLine(r).contains("small_ext.data"), qPrintable(r.err));
}

// tf2onnx lays Keras models out NHWC with a transpose to NCHW first: the import takes NCHW (what
// data sources give) and ONNX Runtime gets the same batch in the file's layout.
void TestOnnxImport::tf2onnxNhwcInput() {
    const QString path = kZoo + "tf2onnx_nhwc.onnx";
    QVERIFY(onnxInputLayout(path.toStdString()).nhwc);
    QVERIFY(!onnxInputLayout((kZoo + "small.onnx").toStdString()).nhwc);
    QCOMPARE(onnxInputShape(path.toStdString()), (std::vector<int64_t>{3, 32, 32}));
    const Graph g = importOnnx(path.toStdString(), {});
    QCOMPARE(g.sampleShape(g.inputValue()), (std::vector<int64_t>{3, 32, 32}));
    QCOMPARE(layerNames(g), (std::vector<std::string>{"model.conv2d", "model.conv2d_1", "model.dense"}));
    const QJsonObject o = verifyWithPtq(path);
    QVERIFY2(!o.isEmpty(), "ptq graph --verify failed on the NHWC model");
    QVERIFY(o["verify"].toObject()["max_relative_diff"].toDouble(1.0) <= 1e-4);
    // the shape is given channels first, as for every model
    QCOMPARE(ptqtest::ptq({"info", path, "--input-shape", "3,32,32"}).exitCode, 0);
}

void TestOnnxImport::dynamicHeightWidthWithAShape() {
    const QJsonObject o = verifyWithPtq(kZoo + "bad_dynamic_hw.onnx", {"--input-shape", "3,40,48"});
    QVERIFY2(!o.isEmpty(), "ptq graph --verify --input-shape failed on a dynamic height and width");
    QVERIFY(o["verify"].toObject()["max_relative_diff"].toDouble(1.0) <= 1e-4);
    // a shape that contradicts the file's fixed channel count
    const Run r = ptqtest::ptq({"info", kZoo + "small.onnx", "--input-shape", "1,32,32"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(!errorLine(r).startsWith("<"), qPrintable(r.err));
}

void TestOnnxImport::badFilesAreOneSentence_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("says");
    QTest::newRow("truncated") << "bad_truncated.onnx" << "damaged or truncated";
    QTest::newRow("empty") << "bad_empty.onnx" << "is empty";
    QTest::newRow("text") << "bad_text.onnx" << "not a readable ONNX model";
    QTest::newRow("unknown op") << "bad_unknown_op.onnx" << "FancyConv";
    QTest::newRow("domain") << "bad_domain.onnx" << "com.example";
    QTest::newRow("two inputs") << "bad_two_inputs.onnx" << "2 inputs";
    QTest::newRow("dynamic H and W") << "bad_dynamic_hw.onnx" << "--input-shape";
    QTest::newRow("node without inputs") << "bad_no_inputs.onnx" << "lacks its input 1";
    QTest::newRow("missing external data") << "bad_missing_data.onnx" << "gone.data";
    QTest::newRow("external data a folder") << "bad_data_folder.onnx" << "is a folder";
    QTest::newRow("external data past its end") << "bad_data_offset.onnx" << "too short";
    QTest::newRow("no such file") << "no_such_model.onnx" << "does not exist";
}

void TestOnnxImport::badFilesAreOneSentence() {
    QFETCH(QString, file);
    QFETCH(QString, says);
    const QStringList quantize = {"quantize", kZoo + file, "--calib", "fmnist:train:64", "--eval", "fmnist:test:64"};
    for (const QStringList& args : {QStringList{"info", kZoo + file}, quantize}) {
        const char* command = args[0] == "info" ? "info" : "quantize";
        const Run r = ptqtest::ptq(args);
        QVERIFY2(!r.crashed, command);
        QCOMPARE(r.exitCode, 2);
        const QString line = errorLine(r);
        QVERIFY2(line.startsWith("ptq: ") && !line.startsWith("<"), qPrintable(r.err));
        QVERIFY2(line.contains(says), qPrintable(line));
        for (const char* raw : {"libprotobuf", "[ONNX", "c10::", "Exception raised", "terminate"})
            QVERIFY2(!r.err.contains(raw), qPrintable(r.err));
    }
}

QTEST_GUILESS_MAIN(TestOnnxImport)
#include "test_onnx_import.moc"
