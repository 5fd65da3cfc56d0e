// The hardware-target registry (core/target/target_registry.h): the shipped targets load from
// the build tree; PTQSTUDIO_PLUGIN_PATH comes first; broken plugin files are reported with a
// reason and skipped, never fatal.
#include "core/target/target_registry.h"

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using ptq::TargetRegistry;

namespace {
/// The reason given for @p fileName, or an empty string when it is not listed as broken.
QString reasonFor(const TargetRegistry& r, const QString& fileName) {
    for (const ptq::BrokenPlugin& b : r.broken())
        if (QFileInfo(b.file).fileName() == fileName) return b.reason;
    return {};
}

void copyInto(const QString& file, const QString& dir, const QString& name = {}) {
    const QString to = dir + QLatin1Char('/') + (name.isEmpty() ? QFileInfo(file).fileName() : name);
    QVERIFY2(QFile::copy(file, to), qPrintable(file));
}
}  // namespace

class TestTargetRegistry : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void shippedTargetsLoad() {
        const TargetRegistry registry({QStringLiteral(PTQ_BUILD_PLUGIN_DIR)});
        QVERIFY2(registry.broken().isEmpty(),
                 qPrintable(registry.broken().isEmpty() ? QString() : registry.broken().first().reason));
        QCOMPARE(registry.names(), (QStringList{QStringLiteral("generic-int"), QStringLiteral("shift-npu")}));

        const ptq::TargetInfo* generic = registry.info(QStringLiteral("generic-int"));
        QVERIFY(generic);
        QCOMPARE(generic->weightBits, (QList<int>{2, 4, 8}));
        QCOMPARE(generic->granularities, QStringList{QStringLiteral("per-channel")});
        QCOMPARE(generic->costUnit, QStringLiteral("bops"));
        QVERIFY(generic->supports(2, 4, 2, QStringLiteral("per-channel")));
        QVERIFY(!generic->supports(2, 4, 1, QStringLiteral("shift")));
        // BOPs: MACs x weight bits x points x activation bits.
        const ptq::TargetLayer layer{QStringLiteral("conv"), QStringLiteral("conv2d"), 4608, 1806336};
        QCOMPARE(registry.target(QStringLiteral("generic-int"))->layerCost(layer, {4, 8, 2, QStringLiteral("per-channel")}),
                 1806336.0 * 4 * 2 * 8);

        const ptq::TargetInfo* npu = registry.info(QStringLiteral("shift-npu"));
        QVERIFY(npu);
        QCOMPARE(npu->weightBits, (QList<int>{4, 8}));
        QCOMPARE(npu->activationBits, (QList<int>{4, 8}));
        QCOMPARE(npu->granularities, (QStringList{QStringLiteral("shift"), QStringLiteral("per-tensor")}));
        QCOMPARE(npu->maxWeightPoints, 1);
        QCOMPARE(npu->costUnit, QStringLiteral("latency_us"));
        QCOMPARE(npu->exporters, QStringList{QStringLiteral("npu-schedule")});
        QVERIFY(!npu->supports(2, 8, 1, QStringLiteral("shift")));
        QVERIFY(!npu->supports(4, 8, 1, QStringLiteral("per-channel")));
        QVERIFY(registry.target(QStringLiteral("shift-npu")));
        QVERIFY(!registry.target(QStringLiteral("nonexistent")));
    }

    void defaultPathsFindTheBuildTree() {
        qunsetenv("PTQSTUDIO_PLUGIN_PATH");
        const QStringList paths = TargetRegistry::defaultSearchPaths();
        QVERIFY(paths.contains(QFileInfo(QStringLiteral(PTQ_BUILD_PLUGIN_DIR)).canonicalFilePath()));
        QVERIFY(TargetRegistry::shared().info(QStringLiteral("shift-npu")));
    }

    void brokenPluginsAreReportedAndSkipped() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        {
            QFile text(dir.filePath(QStringLiteral("libbroken.so")));
            QVERIFY(text.open(QIODevice::WriteOnly));
            text.write("this is not a shared library\n");
        }
        copyInto(QStringLiteral(PTQ_WRONG_IID_PLUGIN), dir.path());
        copyInto(QStringLiteral(PTQ_BAD_METADATA_PLUGIN), dir.path());
        copyInto(QStringLiteral(PTQ_MISSING_SYMBOL_PLUGIN), dir.path());
        copyInto(QStringLiteral(PTQ_EXAMPLE_PLUGIN), dir.path());
        // A second generic-int earlier in the search order wins over the build tree's.
        copyInto(QStringLiteral(PTQ_GENERIC_INT_PLUGIN), dir.path(), QStringLiteral("libgeneric-copy.so"));
        {
            QFile notes(dir.filePath(QStringLiteral("README.txt")));  // not a library name: ignored
            QVERIFY(notes.open(QIODevice::WriteOnly));
        }
        qputenv("PTQSTUDIO_PLUGIN_PATH", (dir.path() + QStringLiteral(":/nonexistent/folder")).toUtf8());
        const QStringList paths = TargetRegistry::defaultSearchPaths();
        qunsetenv("PTQSTUDIO_PLUGIN_PATH");
        QCOMPARE(paths.first(), QFileInfo(dir.path()).canonicalFilePath());

        const TargetRegistry registry(paths);
        // Folders in order, files by name within one: libgeneric-copy.so comes before the example.
        QCOMPARE(registry.names(),
                 (QStringList{QStringLiteral("generic-int"), QStringLiteral("example-dsp"), QStringLiteral("shift-npu")}));
        QCOMPARE(QFileInfo(registry.info(QStringLiteral("generic-int"))->file).fileName(), QStringLiteral("libgeneric-copy.so"));
        QCOMPARE(registry.broken().size(), 5);
        QVERIFY2(reasonFor(registry, QStringLiteral("libbroken.so")).startsWith(QStringLiteral("not a Qt plugin")),
                 qPrintable(reasonFor(registry, QStringLiteral("libbroken.so"))));
        const QString wrongIid = reasonFor(registry, QFileInfo(QStringLiteral(PTQ_WRONG_IID_PLUGIN)).fileName());
        QVERIFY2(wrongIid.contains(QStringLiteral("interface version 2.0")), qPrintable(wrongIid));
        const QString badMeta = reasonFor(registry, QFileInfo(QStringLiteral(PTQ_BAD_METADATA_PLUGIN)).fileName());
        QVERIFY2(badMeta.contains(QStringLiteral("cost_unit")), qPrintable(badMeta));
        const QString missing = reasonFor(registry, QFileInfo(QStringLiteral(PTQ_MISSING_SYMBOL_PLUGIN)).fileName());
        QVERIFY2(missing.startsWith(QStringLiteral("the library does not load")) &&
                     missing.contains(QStringLiteral("ptq_symbol_nobody_defines")),
                 qPrintable(missing));
        const QString shadowed = reasonFor(registry, QFileInfo(QStringLiteral(PTQ_GENERIC_INT_PLUGIN)).fileName());
        QVERIFY2(shadowed.contains(QStringLiteral("already found")), qPrintable(shadowed));
        QVERIFY(reasonFor(registry, QStringLiteral("README.txt")).isEmpty());

        // The example from docs/plugins.md loads and computes its energy.
        const ptq::HardwareTarget* example = registry.target(QStringLiteral("example-dsp"));
        QVERIFY(example);
        const ptq::TargetLayer layer{QStringLiteral("fc"), QStringLiteral("linear"), 640, 640};
        // 640 MACs x 0.0002 x 4 x 8 / 64 nJ + 640 weights x 0.001 x 4 / 8 nJ = 0.064 + 0.32
        QVERIFY(qFuzzyCompare(example->layerCost(layer, {4, 8, 1, QStringLiteral("per-tensor")}), 0.384));
    }

    void metadataIsValidated_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("complaint");
        const QByteArray good = R"({"name":"t","version":"1","weight_bits":[4,8],"activation_bits":[8],)"
                                R"("granularities":["per-tensor"],"cost_unit":"us"})";
        QTest::newRow("good") << good << QString();
        QTest::newRow("no name") << QByteArray(R"({"version":"1"})") << QStringLiteral("\"name\"");
        QTest::newRow("bad bits") << QByteArray(good).replace("[4,8]", "[4,40]") << QStringLiteral("40");
        QTest::newRow("bad granularity") << QByteArray(good).replace("per-tensor", "per-row") << QStringLiteral("per-row");
        QTest::newRow("bad points") << QByteArray(good).replace("\"cost_unit\"", "\"max_weight_points\":9,\"cost_unit\"")
                                    << QStringLiteral("max_weight_points");
    }
    void metadataIsValidated() {
        QFETCH(QByteArray, json);
        QFETCH(QString, complaint);
        ptq::TargetInfo info;
        const QString why = ptq::targetInfoFromMetadata(QJsonDocument::fromJson(json).object(), info);
        if (complaint.isEmpty()) QVERIFY2(why.isEmpty(), qPrintable(why));
        else QVERIFY2(why.contains(complaint), qPrintable(why));
    }
};

QTEST_GUILESS_MAIN(TestTargetRegistry)
#include "test_registry.moc"
