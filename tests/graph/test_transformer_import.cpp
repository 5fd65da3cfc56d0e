// Transformers (issue #22): torchvision's VisionTransformer and SwinTransformer and a BERT-like
// nn.TransformerEncoder text classifier over token ids, made by real PyTorch at test time
// (tools/make_fixture_models.py --set transformers). Each imports exactly against TorchScript's
// own forward, with its attention as IR nodes the quantizer sees: Linear projections and the two
// matmuls Q·Kᵀ and P·V with two activation inputs. The full-size vit_b_16 and swin_t are in
// test_transformer_import_full (labelled slow).
#include "core/graph/graph.h"
#include "core/graph/torchscript_importer.h"
#include "core/runtime/verify.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <QtTest/QtTest>

#include <algorithm>

using namespace ptq;

namespace {

QString fixture(const QString& name) {
#ifdef PTQ_TRANSFORMERS_FULL
    return QString(PTQ_FIXTURE_DIR "/transformers_full/%1.pt").arg(name);
#else
    return QString(PTQ_FIXTURE_DIR "/transformers/%1.pt").arg(name);
#endif
}

// MatMul nodes both of whose inputs are computed (not parameters): the attention matmuls.
int activationMatMuls(const Graph& g) {
    int count = 0;
    for (const Node& n : g.nodes())
        if (n.op == OpKind::MatMul && n.inputs.size() == 2 && g.value(n.inputs[0]).param.empty() &&
            g.value(n.inputs[1]).param.empty())
            ++count;
    return count;
}

int countOf(const Graph& g, OpKind op) {
    return int(std::count_if(g.nodes().begin(), g.nodes().end(), [&](const Node& n) { return n.op == op; }));
}

}  // namespace

class TestTransformerImport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void exact_data();
    void exact();
#ifndef PTQ_TRANSFORMERS_FULL
    void attentionIsVisible();
    void tokenInput();
    void uncoveredAttentionIsRefused_data();
    void uncoveredAttentionIsRefused();
#endif
};

void TestTransformerImport::exact_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QList<qlonglong>>("shape");
    QTest::addColumn<int>("attentions");  // attention blocks: two activation matmuls each
#ifdef PTQ_TRANSFORMERS_FULL
    QTest::newRow("vit_b_16 scripted") << "vit_b_16_scripted" << QList<qlonglong>{3, 224, 224} << 12;
    QTest::newRow("swin_t scripted") << "swin_t_scripted" << QList<qlonglong>{3, 224, 224} << 12;
    QTest::newRow("swin_t traced") << "swin_t_traced" << QList<qlonglong>{3, 224, 224} << 12;
#else
    QTest::newRow("vit_small scripted") << "vit_small_scripted" << QList<qlonglong>{3, 32, 32} << 2;
    QTest::newRow("swin_small scripted") << "swin_small_scripted" << QList<qlonglong>{3, 32, 32} << 4;
    QTest::newRow("swin_small traced") << "swin_small_traced" << QList<qlonglong>{3, 32, 32} << 4;
    QTest::newRow("text mean pooling") << "text_mean_scripted" << QList<qlonglong>{16} << 2;
    QTest::newRow("text CLS pooling") << "text_cls_scripted" << QList<qlonglong>{16} << 2;
    QTest::newRow("text fused layers") << "text_fused_scripted" << QList<qlonglong>{16} << 2;
#endif
}

void TestTransformerImport::exact() {
    QFETCH(QString, name);
    QFETCH(QList<qlonglong>, shape);
    QFETCH(int, attentions);
    const std::string file = fixture(name).toStdString();
    Graph g;
    try {
        g = importTorchScript(file, std::vector<int64_t>(shape.begin(), shape.end()));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
    QCOMPARE(activationMatMuls(g), 2 * attentions);
    double worst = 0.0;
#ifdef PTQ_TRANSFORMERS_FULL
    const std::vector<std::pair<int64_t, uint64_t>> runs{{2, 1}};
#else
    const std::vector<std::pair<int64_t, uint64_t>> runs{{2, 1}, {3, 2}, {1, 3}};
#endif
    for (const auto& [batch, seed] : runs) {
        const VerifyResult r = verifyAgainstTorchScript(g, file, batch, seed);
        worst = std::max(worst, r.maxRelativeDiff);
    }
    qInfo("%s: largest relative difference %.3g over %d nodes", qPrintable(name), worst, int(g.nodes().size()));
    QVERIFY2(worst <= 1e-4, qPrintable(QString("relative difference %1").arg(worst)));
}

#ifndef PTQ_TRANSFORMERS_FULL
// The fused attention of ViT and the explicit one of the text encoder alike: the input
// projection and the output projection are Linear layers the quantizer offers, the softmax is a
// node of its own.
void TestTransformerImport::attentionIsVisible() {
    const Graph vit = importTorchScript(fixture("vit_small_scripted").toStdString(), {3, 32, 32});
    QStringList layers;
    for (int id : vit.quantizableNodes()) layers << QString::fromStdString(vit.node(id).name);
    QVERIFY2(layers.contains("encoder.layers.encoder_layer_0.self_attention.in_proj"), qPrintable(layers.join(", ")));
    QVERIFY2(layers.contains("encoder.layers.encoder_layer_0.self_attention.out_proj"), qPrintable(layers.join(", ")));
    QCOMPARE(countOf(vit, OpKind::Softmax), 2);
    const int qk = vit.findNode("encoder.layers.encoder_layer_0.self_attention.qk");
    QVERIFY(qk >= 0);
    QCOMPARE(vit.node(qk).op, OpKind::MatMul);
    QCOMPARE(vit.sampleShape(vit.node(qk).outputs[0]), std::vector<int64_t>({4, 17, 17}));  // heads x tokens x tokens

    for (const char* name : {"text_mean_scripted", "text_fused_scripted"}) {
        const Graph text = importTorchScript(fixture(name).toStdString(), {16});
        QCOMPARE(countOf(text, OpKind::Softmax) + countOf(text, OpKind::MaskedSoftmax), 2);
        QStringList linears;  // in_proj, out_proj, two feed-forward layers per block, the classifier
        for (int id : text.quantizableNodes())
            if (text.node(id).op == OpKind::Linear) linears << QString::fromStdString(text.node(id).name);
        QCOMPARE(linears.size(), 2 * 4 + 1);
        QVERIFY2(linears.contains("encoder.layers.0.self_attn.in_proj"), qPrintable(linears.join(", ")));
        QVERIFY2(linears.contains("encoder.layers.1.self_attn.out_proj"), qPrintable(linears.join(", ")));
    }
    // The explicit path's matmuls are named for what they compute.
    const Graph text = importTorchScript(fixture("text_mean_scripted").toStdString(), {16});
    for (const char* name : {"encoder.0.self_attn.qk", "encoder.0.self_attn.pv"}) {
        const int id = text.findNode(name);
        QVERIFY2(id >= 0, name);
        QCOMPARE(text.node(id).op, OpKind::MatMul);
    }
}

// A text model takes token ids: the graph says so, with the ids its tables hold.
void TestTransformerImport::tokenInput() {
    const Graph g = importTorchScript(fixture("text_mean_scripted").toStdString(), {16});
    QCOMPARE(g.inputKind(), InputKind::Tokens);
    QCOMPARE(g.tokenLimit(), int64_t(100));
    QCOMPARE(g.sampleShape(g.inputValue()), std::vector<int64_t>({16}));
    const Graph vit = importTorchScript(fixture("vit_small_scripted").toStdString(), {3, 32, 32});
    QCOMPARE(vit.inputKind(), InputKind::Float);
}

// Attention variants the importer does not cover are refused with a sentence naming the op and
// where it stands; no LibTorch text reaches the user. nn.MultiheadAttention with bias_k/bias_v and
// add_zero_attn (its explicit path), and nn.TransformerEncoder's nested-tensor path (it depends on
// each batch's padding), which the sentence says how to turn off.
void TestTransformerImport::uncoveredAttentionIsRefused_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QList<qlonglong>>("shape");
    QTest::addColumn<QStringList>("phrases");
    QTest::newRow("bias_kv, add_zero_attn") << "attention_bias_kv_scripted" << QList<qlonglong>{3, 4, 3}
                                            << QStringList{"aten::zeros", "explicit path", "(in attn"};
    QTest::newRow("nested tensors") << "text_nested_scripted" << QList<qlonglong>{16}
                                    << QStringList{"aten::_nested_tensor_from_mask_left_aligned", "(in encoder)",
                                                   "enable_nested_tensor=False"};
}

void TestTransformerImport::uncoveredAttentionIsRefused() {
    QFETCH(QString, name);
    QFETCH(QList<qlonglong>, shape);
    QFETCH(QStringList, phrases);
    QString message;
    try {
        importTorchScript(fixture(name).toStdString(), std::vector<int64_t>(shape.begin(), shape.end()));
    } catch (const Error& e) {
        message = QString::fromUtf8(e.what());
    }
    for (const QString& phrase : phrases) QVERIFY2(message.contains(phrase), qPrintable(message));
    for (const char* leak : {"INTERNAL ASSERT", "please report", "Exception raised from", ".cpp:", "Traceback"})
        QVERIFY2(!message.contains(leak), qPrintable(message));
    QVERIFY2(!message.contains('\n'), qPrintable(message));
}
#endif

QTEST_GUILESS_MAIN(TestTransformerImport)
#include "test_transformer_import.moc"
