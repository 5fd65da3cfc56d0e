// `ptq targets` and `--target` on the command line, run as a user runs them.
#include "core/alloc/sensitivity_table.h"
#include "../ptq_process.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

namespace {

/// A table file of four layers over what shift-npu runs and w2a8 (which it does not), measured
/// at @p granularity.
QString writeTable(const QTemporaryDir& dir, const std::string& granularity) {
    ptq::SensitivityTable t;
    t.provenance.modelPath = "model.pt";
    t.provenance.data = "fmnist:train:64";
    t.provenance.granularity = granularity;
    ptq::SensitivityResult& r = t.result;
    r.metric = "cross_entropy";
    r.options = {{4, 4, 1}, {4, 8, 1}, {8, 4, 1}, {8, 8, 1}, {2, 8, 1}};
    for (const ptq::BitOption& o : r.options) t.provenance.options.push_back(o.name());
    const int64_t macs[] = {112896, 1806336, 1806336, 640};
    const char* kinds[] = {"conv2d", "conv2d", "conv2d", "linear"};
    for (int l = 0; l < 4; ++l) {
        ptq::SensitivityLayer layer;
        layer.name = "layer" + std::to_string(l);
        layer.kind = kinds[l];
        layer.params = macs[l] / 100 + 1;
        layer.macs = macs[l];
        r.layers.push_back(layer);
        std::vector<ptq::SensitivityCell> cells;
        for (const ptq::BitOption& o : r.options) {
            ptq::SensitivityCell c;
            c.deltaLoss = o.weightBits == 2 ? 0.0001 : 0.01 * (8.0 / o.weightBits) * (8.0 / o.activationBits) - 0.01;
            cells.push_back(c);
        }
        r.cells.push_back(std::move(cells));
    }
    r.samples = 64;
    const QString path = dir.filePath(QString::fromStdString("table-" + granularity + ".json"));
    ptq::writeSensitivityTable(path.toStdString(), t);
    return path;
}

}  // namespace

class TestTargetCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init() { qunsetenv("PTQSTUDIO_PLUGIN_PATH"); }

    void listsTargets() {
        const ptqtest::Run r = ptqtest::ptq({"targets", "--json"});
        QCOMPARE(r.exitCode, 0);
        const QJsonArray targets = r.json()["targets"].toArray();
        QStringList names;
        for (const QJsonValue& t : targets) names << t.toObject().value("name").toString();
        QCOMPARE(names, (QStringList{"generic-int", "shift-npu"}));
        QCOMPARE(targets[1].toObject().value("cost_unit").toString(), QStringLiteral("latency_us"));
        QCOMPARE(targets[1].toObject().value("granularities").toArray().first().toString(), QStringLiteral("shift"));
        QVERIFY(r.json()["broken"].toArray().isEmpty());
        const ptqtest::Run text = ptqtest::ptq({"targets"});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains(QStringLiteral("shift-npu")));
    }

    void brokenPluginIsListedNotFatal() {
        QTemporaryDir dir;
        QFile junk(dir.filePath(QStringLiteral("libjunk.so")));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not a library");
        junk.close();
        qputenv("PTQSTUDIO_PLUGIN_PATH", dir.path().toUtf8());
        const ptqtest::Run r = ptqtest::ptq({"targets", "--json"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.json()["targets"].toArray().size(), 2);
        const QJsonArray broken = r.json()["broken"].toArray();
        QCOMPARE(broken.size(), 1);
        QVERIFY(broken[0].toObject().value("file").toString().endsWith(QStringLiteral("libjunk.so")));
        QVERIFY(broken[0].toObject().value("reason").toString().startsWith(QStringLiteral("not a Qt plugin")));
        const ptqtest::Run text = ptqtest::ptq({"targets"});
        QCOMPARE(text.exitCode, 0);
        QVERIFY2(text.out.contains(QStringLiteral("libjunk.so: not a Qt plugin")), qPrintable(text.out));
    }

    void unknownTargetIsAUsageError() {
        QTemporaryDir dir;
        const QString table = writeTable(dir, "shift");
        const ptqtest::Run r = ptqtest::ptq({"allocate", "--table", table, "--target", "tpu", "--max-cost-ratio", "0.5",
                                             "--json"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QStringLiteral("known targets: generic-int, shift-npu")), qPrintable(r.err));
        const ptqtest::Run s = ptqtest::ptq({"sensitivity", "model.pt", "--calib", "fmnist:train:8", "--target", "tpu"});
        QCOMPARE(s.exitCode, 2);
        QVERIFY2(s.err.contains(QStringLiteral("Unknown hardware target 'tpu'")), qPrintable(s.err));
        const ptqtest::Run q = ptqtest::ptq({"quantize", "model.pt", "--calib", "fmnist:train:8", "--eval",
                                             "fmnist:test:8", "--w", "2", "--target", "shift-npu"});
        QCOMPARE(q.exitCode, 2);
        QVERIFY2(q.err.contains(QStringLiteral("does not run w2a8")), qPrintable(q.err));
    }

    void allocatesForShiftNpu() {
        QTemporaryDir dir;
        const QString table = writeTable(dir, "shift");
        const QString out = dir.filePath(QStringLiteral("alloc.json"));
        const ptqtest::Run r = ptqtest::ptq({"allocate", "--table", table, "--target", "shift-npu", "--max-cost-ratio",
                                             "0.6", "--out", out, "--json"});
        QCOMPARE(r.exitCode, 0);
        const QJsonObject o = r.json();
        QCOMPARE(o["target"].toString(), QStringLiteral("shift-npu"));
        QCOMPARE(o["target_unit"].toString(), QStringLiteral("latency_us"));
        double sum = 0;
        for (const QJsonValue& v : o["layers"].toArray()) {
            const QJsonObject l = v.toObject();
            QVERIFY2(l["option"].toString() != QStringLiteral("w2a8"), "shift-npu does not run w2a8");
            sum += l["target_cost"].toDouble();
        }
        QVERIFY(qFuzzyCompare(sum, o["target_cost"].toDouble()));
        QVERIFY(o["target_cost_ratio"].toDouble() <= 0.6 + 1e-9);
        QVERIFY(o["target_cost"].toDouble() > 0);
        // The file keeps the target and its cost.
        QFile file(out);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject saved = QJsonDocument::fromJson(file.readAll()).object();
        QCOMPARE(saved["target"].toObject()["name"].toString(), QStringLiteral("shift-npu"));
        QVERIFY(qFuzzyCompare(saved["target"].toObject()["cost"].toDouble(), sum));

        // Without the target, the same table's cheap w2a8 is taken.
        const ptqtest::Run free = ptqtest::ptq({"allocate", "--table", table, "--max-size-ratio", "0.2", "--json"});
        QCOMPARE(free.exitCode, 0);
        QVERIFY(free.out.contains(QStringLiteral("w2a8")));

        // A table measured per-channel does not predict shift-npu's shift quantization.
        const ptqtest::Run wrong = ptqtest::ptq({"allocate", "--table", writeTable(dir, "per-channel"), "--target",
                                                 "shift-npu", "--max-cost-ratio", "0.6", "--json"});
        QCOMPARE(wrong.exitCode, 2);
        QVERIFY2(wrong.err.contains(QStringLiteral("--target shift-npu")), qPrintable(wrong.err));
        // A cost budget needs a target.
        QCOMPARE(ptqtest::ptq({"allocate", "--table", table, "--max-cost-ratio", "0.6", "--json"}).exitCode, 2);
        // The frontier of latency over the NPU's options.
        const ptqtest::Run pareto = ptqtest::ptq({"pareto", "--table", table, "--target", "shift-npu", "--json"});
        QCOMPARE(pareto.exitCode, 0);
        QCOMPARE(pareto.json()["cost"].toString(), QStringLiteral("latency_us"));
        for (const QJsonValue& p : pareto.json()["points"].toArray())
            QVERIFY(!p.toObject().value("options").toArray().contains(QStringLiteral("w2a8")));
    }
};

QTEST_GUILESS_MAIN(TestTargetCli)
#include "test_target_cli.moc"
