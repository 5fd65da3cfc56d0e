// Ordinary user models (issue #21), each scripted and traced by real PyTorch at test time
// (tools/make_fixture_models.py --set ops): pytorch/examples' MNIST network, shape and indexing
// ops, element-wise math, norms and reductions, 1-d ops and embeddings, a 1-channel resnet18.
// Each must import exactly: no difference at all from TorchScript's forward with BatchNorm
// unfolded, 1e-4 relative with it folded; and run quantized at W8A8.
#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_summary.h"
#include "core/quant/quantized_model.h"
#include "core/runtime/executor.h"
#include "core/runtime/verify.h"
#include "core/util/error.h"
#include "core/workflow/model.h"
#include "core/util/runtime.h"
#include "core/workflow/model.h"

#include <ATen/ATen.h>

#include <QtTest/QtTest>

#include <cmath>
#include <map>
#include <set>

using namespace ptq;

namespace {
QString opModel(const QString& name, const QString& how) {
    return QString(PTQ_FIXTURE_DIR "/ops/%1_%2.pt").arg(name, how);
}
const char* const kModels[] = {"mnist_net", "shape_ops", "math_ops", "seq_ops", "resnet18_gray"};

// Imports @p file; a refusal fails the test with its sentence (an exception would end the run).
#define IMPORT_OR_FAIL(graph, file)                                              \
    Graph graph;                                                                 \
    try {                                                                        \
        graph = importTorchScript(file, {1, 28, 28});                            \
    } catch (const std::exception& e) {                                          \
        QFAIL(e.what());                                                         \
    }

std::set<OpKind> kindsOf(const Graph& g) {
    std::set<OpKind> kinds;
    for (const Node& n : g.nodes()) kinds.insert(n.op);
    return kinds;
}
}  // namespace

class TestImportOps : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void exact_data();
    void exact();
    void everyNewOpIsExercised();
    void floatLayersAreNotQuantizable();
    void quantizedRun_data();
    void quantizedRun();
    void computedEmbeddingIndicesAreRefused();
};

void TestImportOps::exact_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("fold");
    for (const char* name : kModels)
        for (const char* how : {"scripted", "traced"}) {
            QTest::newRow(qPrintable(QString("%1 %2").arg(name, how))) << opModel(name, how) << false;
            QTest::newRow(qPrintable(QString("%1 %2 BN folded").arg(name, how))) << opModel(name, how) << true;
        }
}

void TestImportOps::exact() {
    QFETCH(QString, file);
    QFETCH(bool, fold);
    IMPORT_OR_FAIL(g, file.toStdString());
    const int folded = fold ? foldBatchNorms(g) : 0;
    if (fold && (file.contains("shape_ops") || file.contains("math_ops") || file.contains("resnet18")))
        QVERIFY(folded > 0);
    std::map<std::string, at::Tensor> before;  // running the graph never writes its parameters
    for (const std::string& key : g.paramKeys()) before[key] = g.param(key).clone();
    double worstAbs = 0.0, worstRel = 0.0;
    // Batches of 2 and 5 (squeeze() keeps the batch dimension, which TorchScript drops at batch 1).
    for (const auto& [batch, seed] : {std::pair<int64_t, uint64_t>{2, 1}, {5, 2}, {2, 3}}) {
        const VerifyResult r = verifyAgainstTorchScript(g, file.toStdString(), batch, seed);
        worstAbs = std::max(worstAbs, r.maxAbsoluteDiff);
        worstRel = std::max(worstRel, r.maxRelativeDiff);
    }
    for (const auto& [key, t] : before)
        QVERIFY2(at::equal(g.param(key), t), qPrintable(QString::fromStdString("the run changed the parameter " + key)));
    qInfo("%s%s: largest difference %.3g absolute, %.3g relative (%d BN folded)",
          qPrintable(QFileInfo(file).completeBaseName()), fold ? " BN folded" : "", worstAbs, worstRel, folded);
    // Unfolded, the executor runs TorchScript's ops but its 2-d convolutions on channels-last
    // activations (another summation order): rounding apart, the same numbers.
    if (fold) QVERIFY2(worstRel <= 1e-4, qPrintable(QString("relative difference %1").arg(worstRel)));
    else QVERIFY2(worstRel <= 1e-5, qPrintable(QString("relative difference %1").arg(worstRel)));
}

// The fixtures between them reach every op kind this issue added, scripted and traced alike.
void TestImportOps::everyNewOpIsExercised() {
    const std::set<OpKind> wanted = {
        OpKind::LogSoftmax, OpKind::Conv1d, OpKind::ConvTranspose2d, OpKind::Upsample, OpKind::Pad,
        OpKind::Slice, OpKind::Select, OpKind::Index, OpKind::Unsqueeze, OpKind::Squeeze, OpKind::Expand,
        OpKind::Repeat, OpKind::Pow, OpKind::Sqrt, OpKind::Rsqrt, OpKind::Exp, OpKind::Log, OpKind::Neg,
        OpKind::Abs, OpKind::Clamp, OpKind::Minimum, OpKind::Maximum, OpKind::LeakyRelu, OpKind::Elu,
        OpKind::Prelu, OpKind::Mish, OpKind::Softplus, OpKind::GroupNorm, OpKind::InstanceNorm, OpKind::Sum,
        OpKind::Amax, OpKind::Var, OpKind::Embedding, OpKind::ChannelShuffle, OpKind::MaxPool1d,
        OpKind::AvgPool1d, OpKind::AdaptiveAvgPool1d};
    for (const char* how : {"scripted", "traced"}) {
        std::set<OpKind> seen;
        for (const char* name : kModels) {
            IMPORT_OR_FAIL(g, opModel(name, how).toStdString());
            const auto kinds = kindsOf(g);
            seen.insert(kinds.begin(), kinds.end());
        }
        QStringList missing;
        for (OpKind k : wanted)
            if (!seen.count(k)) missing << opName(k);
        QVERIFY2(missing.isEmpty(), qPrintable(QString(how) + " fixtures lack: " + missing.join(", ")));
    }
    // Upsample's modes are told apart where the app shows ops.
    IMPORT_OR_FAIL(g, opModel("shape_ops", "scripted").toStdString());
    std::set<std::string> shown;
    for (const Node& n : g.nodes()) shown.insert(displayOp(n));
    QVERIFY(shown.count("upsample_nearest") && shown.count("upsample_bilinear"));
}

// Conv1d and ConvTranspose2d run in float: they are not offered for quantization, and the
// model summary and MAC counts still see them right.
void TestImportOps::floatLayersAreNotQuantizable() {
    for (const char* how : {"scripted", "traced"}) {
        const std::string file = opModel("seq_ops", how).toStdString();
        IMPORT_OR_FAIL(g, file);
        QStringList layers;
        for (int id : g.quantizableNodes()) layers << QString::fromStdString(g.node(id).name);
        QCOMPARE(layers, QStringList({"conv", "fc"}));
        const Node& conv1 = g.node(g.findNode("conv1"));
        QCOMPARE(conv1.op, OpKind::Conv1d);
        QCOMPARE(g.macs(conv1), int64_t(16 * 28) * 28 * 3);  // 16 x 28 outputs, each 28 x 3
        const Node& up = g.node(g.findNode("up"));
        QCOMPARE(up.op, OpKind::ConvTranspose2d);
        QCOMPARE(g.sampleShape(up.outputs[0]), std::vector<int64_t>({4, 14, 14}));
        QCOMPARE(g.macs(up), int64_t(1 * 7 * 7) * 4 * 3 * 3);  // every input element feeds 4 x 3 x 3 outputs
        const ModelSummary s = summarizeModel({file, {1, 28, 28}});
        QCOMPARE(int(s.layers.size()), 2);
        QCOMPARE(s.layers[0].name, std::string("conv"));
    }
}

void TestImportOps::quantizedRun_data() {
    QTest::addColumn<QString>("file");
    for (const char* name : kModels) QTest::newRow(name) << opModel(name, "scripted");
    QTest::newRow("seq_ops traced") << opModel("seq_ops", "traced");
}

// W8A8 per channel on real Fashion-MNIST: calibrates and evaluates; the quantized outputs are
// finite and differ from FP32's, as quantized weights must.
void TestImportOps::quantizedRun() {
    QFETCH(QString, file);
    IMPORT_OR_FAIL(g, file.toStdString());
    foldBatchNorms(g);
    const auto calib = openDataSource("fmnist:train:64", Normalization{}, {1, 28, 28});
    const auto eval = openDataSource("fmnist:test:64", Normalization{}, {1, 28, 28});
    QuantizedModel m(g, QuantConfig::uniform(g, 8, 8, Granularity::PerChannel, false));
    m.calibrate(*calib);
    const Executor ex(g);
    const EvalResult r = evaluateAgainstReference(ex, *eval, m.hooks());
    QCOMPARE(r.samples, int64_t(64));
    QVERIFY2(std::isfinite(r.crossEntropy) && std::isfinite(r.klToReference) && r.klToReference >= 0.0,
             qPrintable(QString("cross-entropy %1, KL %2").arg(r.crossEntropy).arg(r.klToReference)));
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
    const at::Tensor x = at::normal(0.0, 1.0, {3, 1, 28, 28}, gen);
    const at::Tensor fp = ex.run(x).at(0), q = ex.run(x, m.hooks()).at(0);
    QCOMPARE(q.sizes().vec(), fp.sizes().vec());
    QVERIFY(at::isfinite(q).all().item<bool>());
    QVERIFY(!at::equal(q, fp));
}

void TestImportOps::computedEmbeddingIndicesAreRefused() {
    try {
        importTorchScript(PTQ_FIXTURE_DIR "/bad/bad_embedding_indices.pt", {1, 8, 8});
        QFAIL("an embedding of computed indices was imported");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        const QString message = QString::fromStdString(e.what());
        QVERIFY2(message.contains("aten::embedding (indices computed inside the model") && message.contains("in emb"),
                 qPrintable(message));
        QVERIFY2(!message.contains('\n'), qPrintable(message));
    }
}

QTEST_GUILESS_MAIN(TestImportOps)
#include "test_import_ops.moc"
