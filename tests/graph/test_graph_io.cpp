// The graph stream (core/graph/graph_io.h): imported fixtures written and read back equal node by
// node and run to identical outputs; every dtype and attribute kind; damaged streams refused
// with a ptq::Error (cut at every length, single bytes changed, and one edit per check).
#include "core/graph/graph.h"
#include "core/graph/graph_io.h"
#include "core/graph/torchscript_importer.h"
#include "core/util/error.h"

#include "graph_compare.h"

#include <ATen/ATen.h>
#include <QtCore/QFile>
#include <QtTest/QtTest>

#include <cstring>

using namespace ptq;

namespace {

Graph roundTrip(const Graph& g) {
    const std::string bytes = writeGraph(g);
    return readGraph(bytes.data(), bytes.size());
}

/// The error readGraph throws for @p bytes; "" when it reads them.
std::string readError(const std::string& bytes) {
    try {
        readGraph(bytes.data(), bytes.size());
    } catch (const Error& e) {
        if (e.kind() != Error::Kind::Failed) return "wrong kind: " + std::string(e.what());
        return e.what();
    }
    return {};
}

void putU32(std::string& s, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + size_t(i)] = char((v >> (8 * i)) & 0xff);
}

/// A hand-made graph with a parameter of every dtype the stream carries, every attribute kind,
/// an empty and a 0-dimensional tensor, and buffer marks.
Graph everyKind() {
    Graph g;
    const int x = g.addInput("x", {1, 3, 4, 4});
    const at::Tensor w = at::arange(3 * 3 * 1 * 1, at::kFloat).reshape({3, 3, 1, 1});
    const int wv = g.addParamValue("conv.weight", w);
    const int bv = g.addParamValue("conv.bias", at::tensor({0.5, -1.0, 2.0}, at::kFloat));
    Attributes attrs{{"stride", std::vector<int64_t>{1, 1}}, {"padding", std::vector<int64_t>{0, 0}},
                     {"dilation", std::vector<int64_t>{1, 1}}, {"groups", int64_t(1)},
                     {"note", std::string("with\0nul", 8)}, {"scale", 0.1}, {"target", std::vector<int64_t>{kBatchDim, 48}}};
    const int conv = g.addNode(OpKind::Conv2d, "conv", "", {x, wv, bv}, attrs, {{1, 3, 4, 4}});
    const int relu = g.addNode(OpKind::Relu, "relu", "block", {g.node(conv).outputs[0]}, {}, {{1, 3, 4, 4}});
    g.setOutputs({g.node(relu).outputs[0]});
    g.setParam("t.double", at::linspace(-1, 1, 7, at::kDouble));
    g.setParam("t.half", at::linspace(-1, 1, 5, at::kHalf));
    g.setParam("t.bfloat16", at::linspace(-1, 1, 5, at::kBFloat16));
    g.setParam("t.int64", at::arange(-3, 9, at::kLong).reshape({3, 4}));
    g.setParam("t.int32", at::arange(-3, 3, at::kInt));
    g.setParam("t.int16", at::arange(-3, 3, at::kShort));
    g.setParam("t.int8", at::arange(-3, 3, at::kChar));
    g.setParam("t.uint8", at::arange(0, 250, 7, at::kByte));
    g.setParam("t.bool", at::arange(0, 6, at::kLong).remainder(2).to(at::kBool));
    g.setParam("t.empty", at::zeros({0, 4}, at::kFloat));
    g.setParam("t.scalar", at::scalar_tensor(3.25, at::kFloat));
    g.setParam("t.strided", at::arange(12, at::kFloat).reshape({3, 4}).t());  // not contiguous
    g.markBuffer("t.int64");
    g.markBuffer("t.bool");
    g.markBuffer("no.tensor");  // marked before (or without) a tensor, as markBuffer allows
    return g;
}

}  // namespace

class TestGraphIo : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyDtypeAndAttribute();
    void everyOpKind();
    void importedFixturesRoundTrip_data();
    void importedFixturesRoundTrip();
    void cutStreamsAreRefused();
    void changedBytesNeverCrash();
    void eachCheckRefuses();
};

void TestGraphIo::everyDtypeAndAttribute() {
    const Graph g = everyKind();
    const Graph back = roundTrip(g);
    const std::string diff = ptqtest::firstDifference(g, back);
    QVERIFY2(diff.empty(), diff.c_str());
    QCOMPARE(back.param("t.strided").sizes().vec(), (std::vector<int64_t>{4, 3}));
    QVERIFY(at::equal(back.param("t.strided"), g.param("t.strided")));
    QCOMPARE(back.node(0).attrString("note"), std::string("with\0nul", 8));
    QCOMPARE(back.bufferKeys(), (std::vector<std::string>{"no.tensor", "t.bool", "t.int64"}));
    const std::string diffRun = ptqtest::firstRunDifference(g, back);
    QVERIFY2(diffRun.empty(), diffRun.c_str());
    // The stream is the same when written again: nothing is lost or reordered.
    QCOMPARE(writeGraph(back), writeGraph(g));
}

void TestGraphIo::everyOpKind() {
    // One node of each OpKind, chained (the stream does not check that a graph makes sense):
    // a kind the reader does not know would be refused as damaged.
    Graph g;
    int v = g.addInput("x", {1, 4});
    for (int k = 0; k < kOpKindCount; ++k) {
        const int n = g.addNode(OpKind(k), "n" + std::to_string(k), "", {v}, {{"k", int64_t(k)}}, {{1, 4}});
        v = g.node(n).outputs[0];
    }
    g.setOutputs({v});
    g.setInputKind(InputKind::Tokens, 1000);
    const Graph back = roundTrip(g);
    QCOMPARE(back.inputKind(), InputKind::Tokens);
    QCOMPARE(back.tokenLimit(), int64_t(1000));
    QCOMPARE(int(back.nodes().size()), kOpKindCount);
    for (int k = 0; k < kOpKindCount; ++k) {
        QCOMPARE(int(back.node(k).op), k);
        QCOMPARE(std::string(opName(back.node(k).op)), std::string(opName(OpKind(k))));
    }
    QCOMPARE(writeGraph(back), writeGraph(g));
    // One past the last kind is refused (the first node's op code is at byte 16).
    std::string bytes = writeGraph(g);
    putU32(bytes, 16, uint32_t(kOpKindCount));
    QVERIFY(readError(bytes).find("unknown op " + std::to_string(kOpKindCount)) != std::string::npos);
}

void TestGraphIo::importedFixturesRoundTrip_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QVector<qint64>>("shape");
    const QVector<qint64> mnist{1, 28, 28}, rgb{3, 64, 64};
    QTest::newRow("allops scripted") << PTQ_FIXTURE_DIR "/basic/allops_scripted.pt" << mnist;
    QTest::newRow("allops traced") << PTQ_FIXTURE_DIR "/basic/allops_traced.pt" << mnist;
    for (const char* name : {"math_ops_scripted", "seq_ops_traced", "shape_ops_scripted"})
        QTest::newRow(name) << QStringLiteral(PTQ_FIXTURE_DIR "/ops/%1.pt").arg(name) << mnist;
    QTest::newRow("demo resnet20") << PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt" << mnist;
    QTest::newRow("demo mobilenetv2") << PTQ_SOURCE_DIR "/resources/models/mobilenetv2_fmnist.pt" << mnist;
    QTest::newRow("demo vit") << PTQ_SOURCE_DIR "/resources/models/vit_fmnist.pt" << mnist;
    for (const char* name : {"resnet18_scripted", "resnet50_traced", "mobilenet_v3_small_scripted",
                             "efficientnet_b0_traced", "densenet121_scripted", "shufflenet_v2_x0_5_traced"})
        QTest::newRow(name) << QStringLiteral(PTQ_FIXTURE_DIR "/torchvision/%1.pt").arg(name) << rgb;
    // Transformers: Swin's relative-position index (an attribute of 256 and more integers), a token input
    const QVector<qint64> small{3, 32, 32}, tokens{16};
    for (const char* name : {"vit_small_scripted", "swin_small_traced"})
        QTest::newRow(name) << QStringLiteral(PTQ_FIXTURE_DIR "/transformers/%1.pt").arg(name) << small;
    QTest::newRow("text_mean_scripted") << PTQ_FIXTURE_DIR "/transformers/text_mean_scripted.pt" << tokens;
}

void TestGraphIo::importedFixturesRoundTrip() {
    QFETCH(QString, file);
    QFETCH(QVector<qint64>, shape);
    QVERIFY2(QFile::exists(file), qPrintable(file + " is missing: run the fixture tests (make_fixtures_*)"));
    const Graph g = importTorchScript(file.toStdString(), std::vector<int64_t>(shape.begin(), shape.end()));
    if (file.contains("resnet")) QVERIFY(!g.bufferKeys().empty());  // BatchNorm statistics are marked
    const Graph back = roundTrip(g);
    const std::string diff = ptqtest::firstDifference(g, back);
    QVERIFY2(diff.empty(), diff.c_str());
    const std::string diffRun = ptqtest::firstRunDifference(g, back);
    QVERIFY2(diffRun.empty(), diffRun.c_str());
}

void TestGraphIo::cutStreamsAreRefused() {
    const std::string bytes = writeGraph(everyKind());
    for (size_t n = 0; n < bytes.size(); ++n) {
        const std::string error = readError(bytes.substr(0, n));
        QVERIFY2(error.rfind("The graph stream is damaged: ", 0) == 0,
                 qPrintable(QStringLiteral("cut at %1 of %2: %3").arg(n).arg(bytes.size()).arg(error.c_str())));
    }
    QCOMPARE(readError(bytes), std::string());
}

void TestGraphIo::changedBytesNeverCrash() {
    // Every byte of a small imported graph's stream, changed: read back or refused, never more.
    const Graph g = importTorchScript(PTQ_SOURCE_DIR "/tests/robustness/files/good_tiny.pt", {1, 28, 28});
    const std::string bytes = writeGraph(g);
    int refused = 0, read = 0;
    for (size_t i = 0; i < bytes.size(); i += (i < 4096 ? 1 : 13)) {
        for (const unsigned char change : {0x01, 0x80, 0xff}) {
            std::string damaged = bytes;
            damaged[i] = char(static_cast<unsigned char>(damaged[i]) ^ change);
            const std::string error = readError(damaged);
            if (error.empty()) ++read;
            else if (error.rfind("The graph stream is damaged: ", 0) == 0) ++refused;
            else QFAIL(qPrintable(QStringLiteral("byte %1: %2").arg(i).arg(error.c_str())));
        }
    }
    qInfo("changed bytes: %d refused, %d read (names, shapes or tensor values)", refused, read);
    QVERIFY(refused > 0);
}

void TestGraphIo::eachCheckRefuses() {
    const Graph g = everyKind();
    const std::string good = writeGraph(g);
    auto expect = [](const std::string& bytes, const char* phrase) {
        const std::string error = readError(bytes);
        QVERIFY2(error.find(phrase) != std::string::npos, qPrintable(QString("wanted '%1', got '%2'").arg(phrase, error.c_str())));
    };
    expect(std::string(), "does not start with");
    expect("PTQGRAPX" + good.substr(8), "does not start with");
    std::string s = good;
    putU32(s, 8, 99);
    expect(s, "is version 99");
    s = good;
    putU32(s, 12, 0xffffffffu);  // the node count
    expect(s, "claims 4294967295 entries");
    s = good;
    putU32(s, 16, 99);  // the first node's op
    expect(s, "unknown op 99");
    expect(good + "x", "1 bytes are left");

    // A graph whose output names a value it does not have.
    Graph out = everyKind();
    out.setOutputs({99});
    expect(writeGraph(out), "names value 99");
    // A value that names a parameter with no tensor.
    Graph missing;
    const int x = missing.addInput("x", {1, 2});
    missing.addParamValue("w", at::ones({2, 2}));
    missing.addNode(OpKind::Linear, "fc", "", {x, 1}, {}, {{1, 2}});
    std::string m = writeGraph(missing);
    const size_t key = m.rfind(std::string("\x01\0\0\0w", 5));  // the tensor's key "w"
    QVERIFY(key != std::string::npos);
    m[key + 4] = 'v';
    expect(m, "names the missing parameter 'w'");

    // A bool tensor byte other than 0 and 1, and a byte count that does not fit the shape.
    Graph flags;
    flags.setParam("f", at::ones({3}, at::kBool));
    std::string f = writeGraph(flags);
    const size_t data = f.find(std::string("\x03\0\0\0\0\0\0\0\x01\x01\x01", 11));
    QVERIFY(data != std::string::npos);
    f[data + 9] = 2;
    expect(f, "holds a byte other than 0 or 1");
    f = writeGraph(flags);
    f[data] = 4;
    expect(f, "has 4 bytes for 3");
    f = writeGraph(flags);
    f[data - 8 - 4 - 1] = 77;  // the dtype code before the shape (1 dim) and the byte count
    expect(f, "unknown dtype 77");
}

QTEST_GUILESS_MAIN(TestGraphIo)
#include "test_graph_io.moc"
