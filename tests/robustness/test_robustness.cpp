// The bad-input suite: every kind of file a user can hand `ptq` (models, data, configuration,
// sensitivity tables, allocations), broken in the ways files break. Each row runs the real
// executable and checks that it exits 2 with one sentence naming the file and the problem, that
// it did not crash, that the input is byte-for-byte unchanged and that an output file that
// existed before is untouched. Bad files are made at test time (in a temporary folder) from the
// demo models, the installed Fashion-MNIST files and good files the executable writes first;
// the bad models only PyTorch can make are committed (tests/robustness/files, written by
// tools/make_bad_models.py).
#include <QtCore/QCryptographicHash>
#include <QtCore/QDir>
#include <QtCore/QDirIterator>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtTest/QtTest>

#include <zlib.h>

#include <functional>

#include "../ptq_process.h"

namespace {

using ptqtest::Run;
using ptqtest::ptq;

const QString kDemo = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt");
const QString kFiles = QStringLiteral(PTQ_SOURCE_DIR "/tests/robustness/files/");
const QString kFashion = QStringLiteral("/usr/share/datasets/fashion-mnist/");
const QByteArray kPrecious = "an output the user made earlier\n";

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeAll(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) qFatal("cannot write %s", qPrintable(path));
    f.write(bytes);
}

/// The real file's content, decompressed independently of the reader under test.
QByteArray gunzip(const QString& path) {
    gzFile in = gzopen(path.toLocal8Bit().constData(), "rb");
    if (!in) qFatal("cannot open %s", qPrintable(path));
    QByteArray out;
    char buffer[1 << 16];
    int n = 0;
    while ((n = gzread(in, buffer, sizeof buffer)) > 0) out.append(buffer, n);
    gzclose(in);
    return out;
}

/// A file, or every file under a folder (names and contents): what must not change.
QByteArray fingerprint(const QString& path) {
    QCryptographicHash hash(QCryptographicHash::Sha256);
    const QFileInfo info(path);
    if (info.isDir()) {
        QStringList files;
        QDirIterator it(path, QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
        while (it.hasNext()) files << it.next();
        files.sort();
        for (const QString& f : files) {
            hash.addData(f.toUtf8());
            hash.addData(readAll(f));
        }
    } else if (info.exists()) {
        hash.addData(readAll(path));
    }
    return hash.result().toHex();
}

/// A good JSON file written by ptq, changed by @p edit.
QByteArray editedJson(const QString& goodPath, const std::function<void(QJsonObject&)>& edit) {
    QJsonObject root = QJsonDocument::fromJson(readAll(goodPath)).object();
    if (root.isEmpty()) qFatal("%s is not a JSON object", qPrintable(goodPath));
    edit(root);
    return QJsonDocument(root).toJson();
}

/// Applies @p change to element @p index of the array @p key of @p root.
void editElement(QJsonObject& root, const QString& key, int index, const std::function<void(QJsonObject&)>& change) {
    QJsonArray array = root[key].toArray();
    QJsonObject element = array.at(index < 0 ? array.size() + index : index).toObject();
    change(element);
    array[index < 0 ? array.size() + index : index] = element;
    root[key] = array;
}

QPair<QByteArray, QByteArray> idxHeaderAnd(const QByteArray& idx, int headerBytes) {
    return {idx.left(headerBytes), idx.mid(headerBytes)};
}

QByteArray bigEndian(quint32 v) {
    QByteArray b(4, 0);
    for (int i = 0; i < 4; ++i) b[i] = char((v >> (24 - 8 * i)) & 0xff);
    return b;
}

}  // namespace

class TestRobustness : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void badInput_data();
    void badInput();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    /// A row: @p args with {IN} for the bad file or folder and {OUT} for an existing output.
    void row(const QString& name, const QString& input, const QStringList& args, const QString& phrase);
    void modelRows();
    void dataRows();
    void configRows();
    void tableAndAllocationRows();

    QTemporaryDir dir_;
    QString goodConfig_, goodTable_, goodAlloc_;
};

void TestRobustness::initTestCase() {
    QVERIFY(dir_.isValid());
    QVERIFY2(QFile::exists(kFashion + "t10k-images-idx3-ubyte.gz"), "Fashion-MNIST (dataset-fashion-mnist) is missing");
    // Good files of each kind, written by ptq itself; the rows break copies of them.
    goodConfig_ = path("good_config.json");
    goodTable_ = path("good_table.json");
    goodAlloc_ = path("good_alloc.json");
    Run r = ptq({"export", kDemo, "--calib", "fmnist:train:64", "--format", "json", "-o", goodConfig_});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = ptq({"sensitivity", kDemo, "--calib", "fmnist:train:64", "--options", "w4a8,w8a8", "--out", goodTable_});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = ptq({"allocate", "--table", goodTable_, "--max-size-ratio", "0.2", "--out", goodAlloc_});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
}

void TestRobustness::row(const QString& name, const QString& input, const QStringList& args, const QString& phrase) {
    QTest::newRow(name.toUtf8().constData()) << input << args << phrase;  // newRow copies the tag
}

void TestRobustness::badInput_data() {
    QTest::addColumn<QString>("input");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("phrase");
    modelRows();
    dataRows();
    configRows();
    tableAndAllocationRows();
}

void TestRobustness::modelRows() {
    // Export reads the model, calibrates and writes -o: the whole path a model takes.
    auto exportOf = [](const QString& model) {
        return QStringList{"export", model, "--calib", "fmnist:train:16", "--format", "json", "-o", "{OUT}"};
    };
    auto model = [&](const QString& name, const QString& file, const QString& phrase) {
        row(name, file, exportOf("{IN}"), phrase);
    };
    const QByteArray demo = readAll(kDemo);
    const QByteArray sidecar = readAll(QString(kDemo).replace(".pt", ".json"));
    QVERIFY(!demo.isEmpty() && !sidecar.isEmpty());

    writeAll(path("empty.pt"), {});
    model("model: empty file", path("empty.pt"), "is empty");
    QByteArray noise(4096, 0);
    QRandomGenerator gen(1234);
    for (char& c : noise) c = char(gen.bounded(256));
    writeAll(path("random.pt"), noise);
    model("model: random bytes", path("random.pt"), "not a TorchScript file");
    writeAll(path("pickle.pt"), QByteArray("\x80\x02}q\x00.", 6));
    model("model: legacy pickle", path("pickle.pt"), "legacy torch.save pickle");
    QDir().mkpath(path("folder.pt"));
    model("model: a folder", path("folder.pt"), "is a folder");
    model("model: missing", path("missing.pt"), "No model file");
    // Truncated copies of the demo (with its sidecar): in the zip's local headers, in the data,
    // and in the central directory at the end.
    for (const int permille : {1, 100, 500, 900, 999}) {
        const QString name = QStringLiteral("truncated_%1.pt").arg(permille);
        writeAll(path(name), demo.left(demo.size() * permille / 1000));
        writeAll(path(name).replace(".pt", ".json"), sidecar);
        model(QStringLiteral("model: truncated at %1 %").arg(permille / 10.0), path(name), "truncated or damaged");
    }
    model("model: zip without a model", kFiles + "zip_without_model.pt", "zip archive without TorchScript code");
    // A byte of the archive changed (found by fuzz_importer: LibTorch's own error report threw
    // while formatting itself, or its compiler crashed on the damaged code): the zip's CRC-32
    // catches it before LibTorch reads anything.
    model("model: a byte changed after saving", kFiles + "damaged_code.pt", "does not match its CRC-32");
    model("model: a damaged record (29.6 GB claimed)", kFiles + "huge_record.pt", "does not match its CRC-32");
    // One bit changed inside the deflated code of a module (found by fuzz_importer: LibTorch's
    // compiler crashed on it, its reader inflates without checking the CRC-32 either).
    model("model: a bit changed in compressed code", kFiles + "damaged_deflated_code.pt",
          "the entry good_tiny/code/__torch__/torch/nn/modules/batchnorm.py does not match its CRC-32");
    // A local header's signature changed (and some data): LibTorch's reader skips that check too.
    model("model: a damaged local header", kFiles + "damaged_local_header.pt",
          "the local header of the entry good_tiny/data/3 is damaged");
    // A memo index in a debug record damaged to 1.85e9 with the CRCs made to match (written by
    // zipfile): LibTorch's unpickler would grow its memo to 29.6 GB; the pickle walk refuses it.
    model("model: damaged pickle memo index", kFiles + "damaged_pickle.pt", "holds a memo index of 1852776549");
    // Crafted code with the CRCs made to match (tools/make_crashing_model.py, at test time):
    // LibTorch's reader dies of SIGSEGV on it; it runs in the import helper, so ptq says so.
    const QString crashing = QStringLiteral(PTQ_FIXTURE_DIR "/crashing/crashing_reader.pt");
    model("model: crafted code that crashes LibTorch's reader", crashing,
          "crashed the TorchScript reader (signal 11, segmentation fault)");
    row("model: crafted code that crashes LibTorch's reader (info)", crashing,
        {"info", "{IN}", "--input-shape", "1,28,28"}, "crashed the TorchScript reader (signal 11, segmentation fault)");
    model("model: state_dict", kFiles + "state_dict.pt", "state_dict");
    model("model: two-input forward", kFiles + "two_inputs.pt", "forward with 2 inputs");
    model("model: unknown op", kFiles + "unknown_op.pt", "aten::cumsum");
    model("model: NaN weight", kFiles + "nan_weight.pt", "NaN first, at [1, 5]) in parameter '3.weight'");
    model("model: Inf weight", kFiles + "inf_weight.pt", "Inf first, at [1, 5]) in parameter '3.weight'");
    model("model: zero-size layer", kFiles + "zero_size_layer.pt", "parameter 'conv.weight' has shape 0x1x3x3");
    // The sidecar is a file the user hands over too.
    writeAll(path("bad_sidecar/resnet20_fmnist.pt"), demo);
    writeAll(path("bad_sidecar/resnet20_fmnist.json"), "{\"input_shape\": [1, 28, ");
    row("model: malformed sidecar JSON", path("bad_sidecar/resnet20_fmnist.json"),
        exportOf(path("bad_sidecar/resnet20_fmnist.pt")), "resnet20_fmnist.json");
    writeAll(path("bad_shape/resnet20_fmnist.pt"), demo);
    writeAll(path("bad_shape/resnet20_fmnist.json"), "{\"input_shape\": [1, -28, 28]}");
    row("model: sidecar shape negative", path("bad_shape/resnet20_fmnist.json"),
        exportOf(path("bad_shape/resnet20_fmnist.pt")), "resnet20_fmnist.json");
}

void TestRobustness::dataRows() {
    auto calib = [&](const char* name, const QString& input, const QString& source, const QString& phrase) {
        row(name, input, {"export", kDemo, "--calib", source, "--format", "json", "-o", "{OUT}"}, phrase);
    };
    const QString images = kFashion + "t10k-images-idx3-ubyte.gz";
    const QString labels = kFashion + "t10k-labels-idx1-ubyte.gz";
    const QByteArray raw = gunzip(images);
    QCOMPARE(raw.size(), 16 + 10000 * 28 * 28);
    auto idx = [&](const char* name, const QString& file, const QByteArray& bytes, const QString& phrase) {
        writeAll(path(file), bytes);
        calib(name, path(file), "idx:" + path(file) + "," + labels, phrase);
    };
    idx("idx: wrong magic", "wrong_magic.idx", "GIF8" + raw.mid(4), "wrong magic");
    idx("idx: float type", "float.idx", raw.left(2) + '\x0d' + raw.mid(3), "holds");
    idx("idx: empty", "empty.idx", {}, "is empty");
    idx("idx: header cut", "header_cut.idx", raw.left(10), "truncated");
    idx("idx: data cut", "data_cut.idx", raw.left(raw.size() / 2), "truncated");
    idx("idx: bytes after the data", "trailing.idx", raw + "extra", "bytes after");
    const auto [header, data] = idxHeaderAnd(raw, 16);
    idx("idx: zero dimension", "zero_dim.idx", header.left(8) + bigEndian(0) + header.mid(12) + data, "zero dimension");
    idx("idx: huge dimensions", "huge_dims.idx",
        header.left(4) + bigEndian(0x7fffffff) + bigEndian(0x7fffffff) + bigEndian(0x7fffffff) + data, "claims dimensions");
    // Found by fuzz_idx: dimensions whose product overflowed 64-bit arithmetic in the reader.
    idx("idx: dimensions whose product overflows", "overflow_dims.idx",
        QByteArray::fromHex("000008040000ff0002000000fffffffe000004020001020304050607"), "claims dimensions");
    QFile gz(images);
    QVERIFY(gz.open(QIODevice::ReadOnly));
    const QByteArray compressed = gz.read(200000);
    idx("idx: gzip cut", "cut.idx.gz", compressed, "truncated");
    QByteArray damaged = compressed;
    for (int i = 100; i < 200; ++i) damaged[i] = char(~damaged[i]);
    idx("idx: gzip damaged", "damaged.idx.gz", damaged, "once gunzipped");
    calib("idx: label count mismatch", kFashion + "train-labels-idx1-ubyte.gz", "idx:" + images + "," + kFashion + "train-labels-idx1-ubyte.gz",
          "60000");
    calib("idx: missing labels file", path("no_labels.idx"), "idx:" + images + "," + path("no_labels.idx"), "does not exist");

    // Image folders (class sub-folders, like torchvision's ImageFolder).
    QDir().mkpath(path("folder_empty"));
    calib("folder: empty", path("folder_empty"), "folder:" + path("folder_empty"), "is empty");
    QDir().mkpath(path("folder_no_images/shirt"));
    QDir().mkpath(path("folder_no_images/shoe"));
    calib("folder: classes without images", path("folder_no_images"), "folder:" + path("folder_no_images"),
          "no images");
    writeAll(path("folder_flat/notes.txt"), "photos to come\n");
    calib("folder: no images", path("folder_flat"), "folder:" + path("folder_flat"), "has no images");
    QImage small(28, 28, QImage::Format_Grayscale8);
    small.fill(40);
    QDir().mkpath(path("folder_text/shirt"));
    QVERIFY(small.save(path("folder_text/shirt/0.png")));
    writeAll(path("folder_text/shirt/1.png"), "not a picture\n");
    calib("folder: a non-image", path("folder_text"), "folder:" + path("folder_text"), "not an image");
    QDir().mkpath(path("folder_cut/shirt"));
    QVERIFY(small.save(path("folder_cut/shirt/0.png")));
    writeAll(path("folder_cut/shirt/1.png"), readAll(path("folder_cut/shirt/0.png")).left(40));
    calib("folder: a truncated PNG", path("folder_cut"), "folder:" + path("folder_cut"), "damaged PNG");
    QDir().mkpath(path("folder_crc/shirt"));
    QByteArray png = readAll(path("folder_cut/shirt/0.png"));
    png[png.size() - 20] = char(png[png.size() - 20] ^ 0x55);  // inside the last IDAT chunk's data
    writeAll(path("folder_crc/shirt/0.png"), png);
    calib("folder: a PNG with a bad CRC", path("folder_crc"), "folder:" + path("folder_crc"), "fails its CRC check");
    // Bad images of any kind, as users have them (mixed sizes are resized, not refused).
    QImage photo(120, 90, QImage::Format_RGB888);
    for (int y = 0; y < 90; ++y)
        for (int x = 0; x < 120; ++x) photo.setPixel(x, y, qRgb(2 * x, 2 * y, (x * y) % 256));
    QDir().mkpath(path("folder_jpeg/shirt"));
    QVERIFY(photo.save(path("folder_jpeg/shirt/0.jpg"), "JPEG", 90));
    const QByteArray jpeg = readAll(path("folder_jpeg/shirt/0.jpg"));
    writeAll(path("folder_jpeg/shirt/1.jpg"), jpeg.left(jpeg.size() / 2));
    calib("folder: a corrupt (truncated) JPEG", path("folder_jpeg/shirt/1.jpg"), "folder:" + path("folder_jpeg"),
          "damaged JPEG");
    QDir().mkpath(path("folder_zero/shirt"));
    QVERIFY(photo.save(path("folder_zero/shirt/0.png")));
    writeAll(path("folder_zero/shirt/1.png"), {});
    calib("folder: a zero-byte PNG", path("folder_zero/shirt/1.png"), "folder:" + path("folder_zero"), "is empty (0 bytes)");
    // Image lists: a missing file and a malformed line, each with its line number.
    QDir().mkpath(path("list_missing/img"));
    QVERIFY(photo.save(path("list_missing/img/a.png")));
    writeAll(path("list_missing/calib.txt"), "# calibration\nimg/a.png\nimg/gone.png\n");
    calib("list: names a missing file", path("list_missing/calib.txt"), "list:" + path("list_missing/calib.txt"),
          "Line 3 of the image list");
    QDir().mkpath(path("list_bad/img"));
    QVERIFY(photo.save(path("list_bad/img/a.png")));
    writeAll(path("list_bad/calib.txt"), "img/a.png 0\nimg/a.png zero one\n");
    calib("list: a malformed line", path("list_bad/calib.txt"), "list:" + path("list_bad/calib.txt"), "Line 2 of");
}

void TestRobustness::configRows() {
    int files = 0;
    auto config = [&](const char* name, const QByteArray& bytes, const QString& phrase) {
        const QString file = path(QStringLiteral("config_%1.json").arg(++files));
        writeAll(file, bytes);
        row(name, file, {"evaluate", kDemo, "--config", file, "--eval", "fmnist:test:16"}, phrase);
    };
    const QByteArray good = readAll(goodConfig_);
    config("config: empty", {}, "is not valid JSON");
    config("config: cut in half", good.left(good.size() / 2), "is not valid JSON");
    config("config: JSON array", "[1, 2, 3]", "is not an object");
    config("config: other format", editedJson(goodConfig_, [](QJsonObject& o) { o["format"] = "onnx"; }),
           "format is not \"ptq-config\"");
    config("config: version 2", editedJson(goodConfig_, [](QJsonObject& o) { o["version"] = 2; }), "version is 2");
    config("config: layer not in the model", editedJson(goodConfig_, [](QJsonObject& o) {
        editElement(o, "layers", 0, [](QJsonObject& l) { l["name"] = "backbone.nosuch"; });
    }), "'backbone.nosuch', which is not a conv");
    config("config: weight bits 9", editedJson(goodConfig_, [](QJsonObject& o) {
        editElement(o, "layers", 3, [](QJsonObject& l) { l["w_bits"] = 9; });
    }), "w_bits is 9");
    config("config: activation bits 0", editedJson(goodConfig_, [](QJsonObject& o) {
        editElement(o, "layers", 3, [](QJsonObject& l) { l["a_bits"] = 0; });
    }), "a_bits is 0");
    config("config: bits as text", editedJson(goodConfig_, [](QJsonObject& o) {
        editElement(o, "layers", 2, [](QJsonObject& l) { l["w_bits"] = "eight"; });
    }), "w_bits");
    config("config: zero point past any integer (found by fuzzing)", editedJson(goodConfig_, [](QJsonObject& o) {
        editElement(o, "layers", 3, [](QJsonObject& l) {
            QJsonObject weight = l["weight"].toObject();
            QJsonArray terms = weight["terms"].toArray();
            QJsonObject term = terms[0].toObject();
            QJsonArray zero = term["zero_point"].toArray();
            zero[0] = 5.5e49;
            term["zero_point"] = zero;
            terms[0] = term;
            weight["terms"] = terms;
            l["weight"] = weight;
        });
    }), "weight.terms[0].zero_point holds");
    config("config: activation scale past a float", editedJson(goodConfig_, [](QJsonObject& o) {
        editElement(o, "layers", 3, [](QJsonObject& l) {
            QJsonObject a = l["activation"].toObject();
            a["scale"] = 1e300;
            l["activation"] = a;
        });
    }), "activation.scale is not a positive number a 32-bit float holds");
    config("config: layers not an array", editedJson(goodConfig_, [](QJsonObject& o) { o["layers"] = 7; }),
           "layers");
}

void TestRobustness::tableAndAllocationRows() {
    int files = 0;
    auto table = [&](const char* name, const QByteArray& bytes, const QString& phrase) {
        const QString file = path(QStringLiteral("table_%1.json").arg(++files));
        writeAll(file, bytes);
        row(name, file, {"allocate", "--table", file, "--max-size-ratio", "0.2", "--out", "{OUT}"}, phrase);
    };
    const QByteArray goodTable = readAll(goodTable_);
    table("table: cut in half", goodTable.left(goodTable.size() / 2), "not JSON");
    table("table: other format", editedJson(goodTable_, [](QJsonObject& o) { o["format"] = "csv"; }),
          "format is not ptq-sensitivity");
    table("table: version 3", editedJson(goodTable_, [](QJsonObject& o) { o["version"] = 3; }), "has version 3");
    table("table: bits out of range", editedJson(goodTable_, [](QJsonObject& o) {
        QJsonObject p = o["provenance"].toObject();
        p["options"] = QJsonArray{"w4a8", "w12a8"};
        o["provenance"] = p;
    }), "cannot use 12 bits");
    table("table: cells do not match the options", editedJson(goodTable_, [](QJsonObject& o) {
        editElement(o, "layers", 1, [](QJsonObject& l) { l["cells"] = QJsonArray{}; });
    }), "do not match");
    table("table: no layers", editedJson(goodTable_, [](QJsonObject& o) { o["layers"] = QJsonArray{}; }),
          "has no layers");
    table("table: negative parameter count", editedJson(goodTable_, [](QJsonObject& o) {
        editElement(o, "layers", 0, [](QJsonObject& l) { l["params"] = -5; });
    }), "negative params count");

    auto alloc = [&](const char* name, const QByteArray& bytes, const QString& phrase) {
        const QString file = path(QStringLiteral("alloc_%1.json").arg(++files));
        writeAll(file, bytes);
        row(name, file,
            {"export", kDemo, "--alloc", file, "--calib", "fmnist:train:16", "--format", "json", "-o", "{OUT}"},
            phrase);
    };
    const QByteArray goodAlloc = readAll(goodAlloc_);
    alloc("allocation: cut in half", goodAlloc.left(goodAlloc.size() / 2), "not JSON");
    alloc("allocation: version 2", editedJson(goodAlloc_, [](QJsonObject& o) { o["version"] = 2; }), "has version 2");
    alloc("allocation: layer not in the model", editedJson(goodAlloc_, [](QJsonObject& o) {
        editElement(o, "layers", 0, [](QJsonObject& l) { l["name"] = "nosuch"; });
    }), "nosuch");
    alloc("allocation: bits out of range", editedJson(goodAlloc_, [](QJsonObject& o) {
        editElement(o, "layers", 0, [](QJsonObject& l) { l["option"] = "w4a1"; });
    }), "cannot use 1 bits");
    alloc("allocation: no layers", editedJson(goodAlloc_, [](QJsonObject& o) { o["layers"] = QJsonArray{}; }),
          "has no layers");
    alloc("allocation: a layer missing", editedJson(goodAlloc_, [](QJsonObject& o) {
        QJsonArray layers = o["layers"].toArray();
        layers.removeLast();
        o["layers"] = layers;
    }), "has no option for layer");
}

void TestRobustness::badInput() {
    QFETCH(QString, input);
    QFETCH(QStringList, args);
    QFETCH(QString, phrase);
    const QString out = path("existing_output");
    writeAll(out, kPrecious);
    for (QString& a : args) a.replace("{IN}", input).replace("{OUT}", out);
    const QByteArray before = fingerprint(input);

    const Run r = ptq(args);

    QVERIFY2(!r.crashed, qPrintable("ptq crashed: " + r.err.right(2000)));
    QVERIFY2(r.exitCode == 2, qPrintable(QStringLiteral("exit %1: %2").arg(r.exitCode).arg(r.err)));
    const QString sentence = r.err.trimmed();
    QVERIFY2(!sentence.isEmpty() && !sentence.contains('\n'), qPrintable("not one line: " + r.err));
    QVERIFY2(sentence.endsWith('.'), qPrintable("not a sentence: " + sentence));
    QVERIFY2(sentence.contains(phrase), qPrintable("does not say '" + phrase + "': " + sentence));
    const QString name = QFileInfo(input).fileName();
    QVERIFY2(sentence.contains(name), qPrintable("does not name " + name + ": " + sentence));
    QCOMPARE(fingerprint(input), before);
    QCOMPARE(readAll(out), kPrecious);
}

QTEST_GUILESS_MAIN(TestRobustness)
#include "test_robustness.moc"
