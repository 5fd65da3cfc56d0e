// The TorchScript importer and the executor on small real TorchScript files made by PyTorch
// (tools/make_fixture_models.py), every kind of bad model file, and the archive checks made
// before LibTorch reads a file (pickle walk, zip CRC-32s).
#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/pickle_scan.h"
#include "core/graph/torchscript_importer.h"
#include "core/graph/zip_check.h"
#include "core/model/model_card.h"
#include "core/model/model_summary.h"
#include "core/workflow/model.h"
#include "core/runtime/verify.h"
#include "core/util/error.h"

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <zlib.h>

using namespace ptq;

namespace {
QString fixture(const QString& set, const QString& name) {
    return QStringLiteral(PTQ_FIXTURE_DIR "/") + set + "/" + name;
}
}  // namespace

class TestImporter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pickleWalk();
    void zipCheck();
    void exactOnAllOps_data();
    void exactOnAllOps();
    void layerNamesAndMacs();
    void demoModels_data();
    void demoModels();
    void badFiles_data();
    void badFiles();
    void wrongInputShapeIsRefused();
};

void TestImporter::exactOnAllOps_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("scripted") << fixture("basic", "allops_scripted.pt");
    QTest::newRow("traced") << fixture("basic", "allops_traced.pt");
}

void TestImporter::exactOnAllOps() {
    QFETCH(QString, file);
    const Graph g = importTorchScript(file.toStdString(), {1, 28, 28});
    QVERIFY(g.nodes().size() > 20);
    for (int64_t batch : {1, 3}) {
        const VerifyResult r = verifyAgainstTorchScript(g, file.toStdString(), batch, 7);
        QVERIFY2(r.maxRelativeDiff <= 1e-4, qPrintable(QString("batch %1: relative difference %2")
                                                           .arg(batch).arg(r.maxRelativeDiff)));
    }
}

void TestImporter::layerNamesAndMacs() {
    for (const QString file : {fixture("basic", "allops_scripted.pt"), fixture("basic", "allops_traced.pt")}) {
        const ModelSummary s = summarizeModel({file.toStdString(), {1, 28, 28}});
        QStringList names;
        for (const auto& l : s.layers) names << QString::fromStdString(l.name);
        QCOMPARE(names, QStringList({"conv", "dw", "pw", "fc1", "fc2"}));
        // conv: 8 output channels x 28 x 28, each 1 x 3 x 3 MACs
        QCOMPARE(s.layers[0].macs, int64_t(8 * 28 * 28 * 9));
        QCOMPARE(s.layers[0].params, int64_t(8 * 9 + 8));
        QCOMPARE(QString::fromStdString(s.layers[1].kind), QString("depthwise-conv2d"));
        QCOMPARE(s.layers[1].macs, int64_t(8 * 28 * 28 * 9));
        QCOMPARE(s.layers[2].outputShape, std::vector<int64_t>({16, 14, 14}));
        QCOMPARE(s.layers[4].params, int64_t(32 * 10));  // fc2 has no bias
        QCOMPARE(s.layers[3].macs, int64_t(32 * 16 * 7 * 7));
    }
}

void TestImporter::demoModels_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("batchNorms");  // at least this many folded into their convolutions
    const std::pair<const char*, int> models[] = {
        {"resnet20_fmnist.pt", 21}, {"mobilenetv2_fmnist.pt", 21}, {"vit_fmnist.pt", 0}};
    for (const auto& [name, batchNorms] : models)
        QTest::newRow(name) << QStringLiteral(PTQ_SOURCE_DIR "/resources/models/") + name << batchNorms;
}

void TestImporter::demoModels() {
    QFETCH(QString, file);
    QFETCH(int, batchNorms);
    if (!QFileInfo::exists(file)) QSKIP("demo model not trained yet");
    const auto card = loadModelCard(file.toStdString());
    QVERIFY(card.has_value());
    Graph g = importTorchScript(file.toStdString(), card->inputShape);
    const VerifyResult r = verifyAgainstTorchScript(g, file.toStdString(), 8, 11);
    QVERIFY2(r.maxRelativeDiff <= 1e-4, qPrintable(QString::number(r.maxRelativeDiff)));
    QVERIFY(foldBatchNorms(g) >= batchNorms);
    const VerifyResult folded = verifyAgainstTorchScript(g, file.toStdString(), 8, 11);
    QVERIFY2(folded.maxRelativeDiff <= 1e-4, qPrintable(QString::number(folded.maxRelativeDiff)));
}

void TestImporter::badFiles_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("phrases");
    QTest::newRow("missing") << fixture("bad", "no_such_file.pt") << QStringList{"No model file", "check the path"};
    QTest::newRow("empty") << fixture("bad", "bad_empty.pt") << QStringList{"empty (0 bytes)"};
    QTest::newRow("random bytes") << fixture("bad", "bad_random.pt") << QStringList{"not a TorchScript file"};
    for (const char* t : {"10", "50", "90"})
        QTest::newRow(qPrintable(QString("truncated %1%").arg(t)))
            << fixture("bad", QString("bad_truncated_%1.pt").arg(t)) << QStringList{"truncated or damaged"};
    QTest::newRow("state_dict") << fixture("bad", "bad_state_dict.pt") << QStringList{"torch.save", "state_dict"};
    QTest::newRow("two inputs") << fixture("bad", "bad_two_inputs.pt") << QStringList{"2 inputs"};
    QTest::newRow("unknown op") << fixture("bad", "bad_unknown_op.pt")
                                << QStringList{"aten::cumsum x1", "aten::erf x1", "aten::flip x1",
                                               "refused before any data"};
    QTest::newRow("folder") << fixture("bad", "") << QStringList{"is a folder"};
}

void TestImporter::badFiles() {
    QFETCH(QString, file);
    QFETCH(QStringList, phrases);
    try {
        importTorchScript(file.toStdString(), {1, 8, 8});
        QFAIL("the bad file was imported");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        const QString message = QString::fromStdString(e.what());
        for (const QString& p : phrases) QVERIFY2(message.contains(p), qPrintable(message));
        QVERIFY2(!message.contains('\n'), qPrintable(message));
    }
}

void TestImporter::wrongInputShapeIsRefused() {
    try {
        importTorchScript(fixture("basic", "allops_scripted.pt").toStdString(), {3, 28, 28});
        QFAIL("an input of 3 channels was accepted by a 1-channel model");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains("3x28x28"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestImporter)
// The walk that runs on every pickle of an archive before LibTorch: silent on a well-formed
// stream (Python's pickle.dumps('abc', protocol=2)), a sentence for a length or memo index the
// stream cannot hold.
void TestImporter::pickleWalk() {
    auto damage = [](std::initializer_list<int> bytes) {
        std::vector<uint8_t> v;
        for (int b : bytes) v.push_back(uint8_t(b));
        return ptq::findPickleDamage(v.data(), v.size());
    };
    QCOMPARE(damage({0x80, 2, 'X', 3, 0, 0, 0, 'a', 'b', 'c', 'q', 0, '.'}), std::string());
    const std::string longString = damage({0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f, 'a', 'b', 'c', 'q', 0, '.'});
    QVERIFY2(longString.find("a record of 2147483647 bytes where 6 remain (byte 2)") != std::string::npos,
             longString.c_str());
    const std::string memo = damage({0x80, 2, 'N', 'r', 0x65, 0x6e, 0x6f, 0x6e, '.'});
    QVERIFY2(memo.find("a memo index of 1852796517") != std::string::npos, memo.c_str());
    QVERIFY(!damage({0x80, 2, 0x8c}).empty());                    // a length cut off
    QCOMPARE(damage({0x80, 2, 0xfe, 0xff, 0xff}), std::string());  // unknown opcode: LibTorch decides
}

namespace {
// A minimal zip writer for zipCheck: each entry stored (method 0) or raw-deflated (method 8),
// with the CRC-32 and sizes the central directory records.
struct ZipEntry {
    std::string name, content;
    bool deflate = false;
};
void put(std::string& out, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
std::string zipOf(const std::vector<ZipEntry>& entries) {
    std::string out, directory;
    for (const ZipEntry& e : entries) {
        std::string data = e.content;
        if (e.deflate) {
            z_stream z{};
            deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
            data.assign(deflateBound(&z, uLong(e.content.size())), '\0');
            z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(e.content.data()));
            z.avail_in = uInt(e.content.size());
            z.next_out = reinterpret_cast<Bytef*>(data.data());
            z.avail_out = uInt(data.size());
            deflate(&z, Z_FINISH);
            data.resize(z.total_out);
            deflateEnd(&z);
        }
        const uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(e.content.data()), uInt(e.content.size())));
        const uint32_t offset = uint32_t(out.size());
        auto fields = [&](std::string& s) {  // version needed .. name length, shared by both headers
            put(s, 20, 2), put(s, 0, 2), put(s, e.deflate ? 8 : 0, 2), put(s, 0, 4);
            put(s, crc, 4), put(s, uint32_t(data.size()), 4), put(s, uint32_t(e.content.size()), 4);
            put(s, uint32_t(e.name.size()), 2), put(s, 0, 2);
        };
        put(out, 0x04034b50, 4), fields(out), out += e.name, out += data;
        put(directory, 0x02014b50, 4), put(directory, 20, 2), fields(directory);
        put(directory, 0, 2), put(directory, 0, 2), put(directory, 0, 2), put(directory, 0, 4);
        put(directory, offset, 4), directory += e.name;
    }
    const uint32_t at = uint32_t(out.size());
    out += directory;
    put(out, 0x06054b50, 4), put(out, 0, 2), put(out, 0, 2), put(out, uint32_t(entries.size()), 2);
    put(out, uint32_t(entries.size()), 2), put(out, uint32_t(directory.size()), 4), put(out, at, 4), put(out, 0, 2);
    return out;
}
std::string zipDamage(const QTemporaryDir& dir, const std::string& bytes) {
    const QString path = dir.filePath(QStringLiteral("archive.zip"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return "cannot write " + path.toStdString();
    f.write(bytes.data(), qint64(bytes.size()));
    f.close();
    return ptq::findZipDamage(path.toStdString());
}
}  // namespace

void TestImporter::zipCheck() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    std::string code;
    for (int i = 0; i < 400; ++i) code += "def forward(self, x):\n    return x * " + std::to_string(i) + "\n";
    const std::vector<ZipEntry> entries{{"m/data/0", std::string(300, '\7'), false}, {"m/code/m.py", code, true}};
    const std::string good = zipOf(entries);
    QCOMPARE(zipDamage(dir, good), std::string());
    const size_t codeData = 30 + entries[0].name.size() + entries[0].content.size() + 30 + entries[1].name.size();

    std::string storedByte = good;  // one byte of the stored entry
    storedByte[30 + entries[0].name.size() + 100] ^= 0x10;
    QCOMPARE(zipDamage(dir, storedByte), std::string("the entry m/data/0 does not match its CRC-32"));

    // Every single-bit change in the deflated entry is caught: as data that does not inflate,
    // as the wrong size, or as the wrong CRC-32 (this is what crashed LibTorch's compiler).
    const size_t deflated = good.find("PK\1\2") - codeData;
    int caught = 0;
    for (size_t at = 0; at + 1 < deflated; at += 7) {  // not the last byte: its padding bits are unused
        std::string bit = good;
        bit[codeData + at] ^= char(1 << (at % 8));
        const std::string why = zipDamage(dir, bit);
        QVERIFY2(why.find("the entry m/code/m.py ") == 0, ("byte " + std::to_string(at) + ": '" + why + "'").c_str());
        ++caught;
    }
    QVERIFY(caught > 10);

    std::string size = good;  // the directory's uncompressed size of the deflated entry, one less
    const size_t sizeField = good.find("PK\1\2", good.find("PK\1\2") + 1) + 24;
    size[sizeField] = char(uint8_t(size[sizeField]) - 1);
    const std::string sizeWhy = zipDamage(dir, size);
    QVERIFY2(sizeWhy.find("the entry m/code/m.py holds " + std::to_string(code.size()) + " bytes where its directory says") == 0,
             sizeWhy.c_str());

    // Damage LibTorch's reader lets through: a local header's signature, an unknown method.
    std::string header = good;
    header[30 + entries[0].name.size() + entries[0].content.size() + 2] = 'x';
    QCOMPARE(zipDamage(dir, header), std::string("the local header of the entry m/code/m.py is damaged"));
    std::string method = good;
    method[good.find("PK\1\2") + 10] = 12;  // bzip2
    QCOMPARE(zipDamage(dir, method),
             std::string("the entry m/data/0 uses compression method 12, which no saved model uses"));
    std::string directory = good;
    directory[good.find("PK\1\2", good.find("PK\1\2") + 1) + 1] = 'Q';
    QCOMPARE(zipDamage(dir, directory), std::string("its central directory is damaged at entry 2"));
    QCOMPARE(zipDamage(dir, good.substr(0, good.size() - 30)), std::string());  // no end record: LibTorch says so

    std::string garbage = good;  // the deflate stream replaced by bytes zlib refuses
    for (size_t i = 0; i < 8; ++i) garbage[codeData + i] = char(0xff);
    QCOMPARE(zipDamage(dir, garbage), std::string("the entry m/code/m.py holds compressed data that does not inflate"));
}

#include "test_importer.moc"
