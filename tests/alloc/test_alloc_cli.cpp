// ptq sensitivity --out (reuse), allocate, pareto, evaluate and bench ip as a user runs them:
// exit codes, one-sentence errors, --json output.
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>

namespace {

struct Run {
    int exitCode = -1;
    QString out, err;
    QJsonObject json() const { return QJsonDocument::fromJson(out.toUtf8()).object(); }
};

Run ptq(const QStringList& args) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("OMP_WAIT_POLICY", "PASSIVE");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(PTQ_EXE), args);
    if (!p.waitForFinished(600000)) qFatal("ptq did not finish");
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

const QString demo = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt");
const QString mobilenet = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/mobilenetv2_fmnist.pt");

}  // namespace

class TestAllocCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void sensitivityTableIsReused();
    void allocateWithinTheBudget();
    void paretoCsv();
    void evaluateMeasuresTheAllocation();
    void anchorsCarryThePrediction();
    void badInput_data();
    void badInput();
    void benchIp();
    void benchWorkflow();

private:
    QTemporaryDir dir_;
    QString table_, alloc_;
    QString path(const QString& name) const { return dir_.path() + "/" + name; }
};

void TestAllocCli::initTestCase() {
    QVERIFY(dir_.isValid());
    table_ = path("table.json");
    alloc_ = path("alloc.json");
    const Run r = ptq({"sensitivity", demo, "--calib", "fmnist:train:64", "--options", "w2a8,w4a8,w8a8", "--batch", "64",
                       "--out", table_, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(r.json()["reused"].toBool(), false);
    QVERIFY(QFile::exists(table_));
}

void TestAllocCli::sensitivityTableIsReused() {
    const QStringList args{"sensitivity", demo, "--calib", "fmnist:train:64", "--options", "w2a8,w4a8,w8a8", "--batch",
                           "64", "--out", table_, "--json"};
    Run r = ptq(args);
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.err.contains("reused"), qPrintable(r.err));
    QCOMPARE(r.json()["reused"].toBool(), true);
    QCOMPARE(r.json()["layers"].toArray().size(), 22);
    // Other data: measured again, and the file says so afterwards.
    QVERIFY(QFile::copy(table_, path("other.json")));
    r = ptq({"sensitivity", demo, "--calib", "fmnist:train:32", "--options", "w4a8,w8a8", "--batch", "32", "--out",
             path("other.json"), "--json"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.err.contains("measuring again"), qPrintable(r.err));
    QCOMPARE(r.json()["reused"].toBool(), false);
    QCOMPARE(r.json()["samples"].toInt(), 32);
}

void TestAllocCli::allocateWithinTheBudget() {
    const Run r = ptq({"allocate", "--table", table_, "--max-size-ratio", "0.16", "--lock", "conv1=w8a8", "--out",
                       alloc_, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject o = r.json();
    QCOMPARE(o["status"].toString(), QString("optimal"));
    QVERIFY(o["size_ratio"].toDouble() <= 0.16);
    QVERIFY(o["size_ratio"].toDouble() > 0.12);
    const QJsonArray layers = o["layers"].toArray();
    QCOMPARE(layers.size(), 22);
    QCOMPARE(layers[0].toObject()["option"].toString(), QString("w8a8"));
    QVERIFY(QFile::exists(alloc_));
    // A looser budget never predicts more degradation.
    const Run loose = ptq({"allocate", "--table", table_, "--max-size-ratio", "0.2", "--json"});
    QCOMPARE(loose.exitCode, 0);
    QVERIFY(loose.json()["degradation"].toDouble() <= o["degradation"].toDouble() + 1e-12);
    const Run text = ptq({"allocate", "--table", table_, "--max-degradation", "0.05", "--out", path("d.json")});
    QCOMPARE(text.exitCode, 0);
    QVERIFY(text.out.contains("predicted top-1"));
}

void TestAllocCli::paretoCsv() {
    const Run r = ptq({"pareto", "--table", table_, "--csv"});
    QCOMPARE(r.exitCode, 0);
    const QStringList lines = r.out.trimmed().split('\n');
    QVERIFY(lines.size() > 3);
    QVERIFY(lines[0].startsWith("cost,cost_ratio,degradation"));
}

void TestAllocCli::evaluateMeasuresTheAllocation() {
    const Run r = ptq({"evaluate", demo, "--alloc", alloc_, "--eval", "fmnist:test:256", "--batch", "128", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject o = r.json();
    QCOMPARE(o["eval_samples"].toInt(), 256);
    QVERIFY(o["fp32_top1"].toDouble() > 80);
    QVERIFY(o["quant_top1"].toDouble() > 60);
    QVERIFY(o.contains("predicted_top1"));
    QVERIFY(o["size_ratio"].toDouble() <= 0.16);
    QCOMPARE(o["calib"].toString(), QString("fmnist:train:64"));  // the table's data by default
}

void TestAllocCli::anchorsCarryThePrediction() {
    // Three allocations along the frontier measured with the light pipeline, then a budget
    // between them predicted from them, then measured.
    const QString anchors = path("anchors.json"), alloc = path("alloc_anchored.json");
    Run r = ptq({"anchors", demo, "--table", table_, "--eval", "fmnist:test:300", "--pipeline", "light", "--count", "3",
                 "--from", "0.08", "--to", "0.25", "--out", anchors, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonArray points = r.json()["anchors"].toArray();
    QVERIFY(points.size() >= 2 && points.size() <= 3);
    for (const QJsonValue& p : points) {
        QVERIFY(p["size_ratio"].toDouble() >= 0.079 && p["size_ratio"].toDouble() <= 0.251);
        QVERIFY(p["top1"].toDouble() > 30 && p["top1"].toDouble() <= 100);
    }
    QVERIFY(QFile::exists(anchors));
    r = ptq({"allocate", "--table", table_, "--max-size-ratio", "0.14", "--anchors", anchors, "--out", alloc, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject fit = r.json()["measured_fit"].toObject();
    QCOMPARE(fit["pipeline"].toString(), QString("light"));
    QCOMPARE(fit["anchors"].toInt(), int(points.size()));
    QVERIFY(fit["uncertainty"].toDouble() > 0 && fit["uncertainty"].toDouble() < 5);
    QVERIFY(std::isfinite(fit["drop"].toDouble()));
    r = ptq({"evaluate", demo, "--alloc", alloc, "--eval", "fmnist:test:300", "--pipeline", "light", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(r.json()["predicted_drop_measured_fit"].toDouble(), fit["drop"].toDouble());
    QVERIFY(r.json().contains("predicted_uncertainty"));
    // Text: the prediction with its uncertainty.
    r = ptq({"allocate", "--table", table_, "--max-size-ratio", "0.14", "--anchors", anchors, "--out", alloc});
    QVERIFY2(r.out.contains(QRegularExpression("predicted drop -?\\d+\\.\\d\\d \\+/- \\d+\\.\\d\\d pt from FP32 with "
                                               "the light pipeline")),
             qPrintable(r.out));
}

void TestAllocCli::badInput_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("phrase");
    const QString t = QStringLiteral("@TABLE@");
    QTest::newRow("allocate without table") << QStringList{"allocate", "--max-size-ratio", "0.2"} << "needs --table";
    QTest::newRow("allocate without budget") << QStringList{"allocate", "--table", t, "--out", "x.json"}
                                             << "needs a budget";
    QTest::newRow("allocate too tight") << QStringList{"allocate", "--table", t, "--max-size-ratio", "0.01", "--json"}
                                        << "too tight";
    QTest::newRow("allocate bad ratio") << QStringList{"allocate", "--table", t, "--max-size-ratio", "-1", "--json"}
                                        << "ratio above 0";
    QTest::newRow("allocate bad lock") << QStringList{"allocate", "--table", t, "--max-size-ratio", "0.2", "--lock",
                                                      "conv1", "--json"} << "LAYER=OPTION";
    QTest::newRow("allocate unknown layer") << QStringList{"allocate", "--table", t, "--max-size-ratio", "0.2",
                                                           "--lock", "conv9=w8a8", "--json"} << "conv9";
    QTest::newRow("allocate unknown option") << QStringList{"allocate", "--table", t, "--max-size-ratio", "0.2",
                                                            "--exclude", "w3a3", "--json"} << "w3a3";
    QTest::newRow("allocate all excluded") << QStringList{"allocate", "--table", t, "--max-size-ratio", "0.2",
                                                          "--exclude", "w2a8,w4a8,w8a8", "--json"} << "none left";
    QTest::newRow("allocate table missing") << QStringList{"allocate", "--table", "/nonexistent/t.json",
                                                           "--max-size-ratio", "0.2", "--json"} << "Cannot read";
    QTest::newRow("allocate not a table") << QStringList{"allocate", "--table", demo, "--max-size-ratio", "0.2",
                                                         "--json"} << "not a sensitivity table";
    QTest::newRow("pareto bad cost") << QStringList{"pareto", "--table", t, "--cost", "latency"} << "Unknown cost";
    QTest::newRow("evaluate without alloc") << QStringList{"evaluate", demo, "--eval", "fmnist:test:10"}
                                            << "needs --alloc";
    QTest::newRow("evaluate another model") << QStringList{"evaluate", mobilenet, "--alloc", "@ALLOC@", "--eval",
                                                           "fmnist:test:10"} << "another model";
    QTest::newRow("evaluate a table") << QStringList{"evaluate", demo, "--alloc", t, "--eval", "fmnist:test:10"}
                                      << "not an allocation";
    QTest::newRow("evaluate bad pipeline") << QStringList{"evaluate", demo, "--alloc", "@ALLOC@", "--eval",
                                                          "fmnist:test:10", "--pipeline", "heavy"} << "Unknown pipeline";
    QTest::newRow("anchors without out") << QStringList{"anchors", demo, "--table", t, "--eval", "fmnist:test:10"}
                                         << "needs --table";
    QTest::newRow("anchors count 0") << QStringList{"anchors", demo, "--table", t, "--eval", "fmnist:test:10", "--count",
                                                    "0", "--out", "a.json"} << "at least 1 allocation";
    QTest::newRow("anchors bad range") << QStringList{"anchors", demo, "--table", t, "--eval", "fmnist:test:10",
                                                      "--from", "0.3", "--to", "0.2", "--out", "a.json"}
                                       << "0 < from < to";
    QTest::newRow("anchors another model") << QStringList{"anchors", mobilenet, "--table", t, "--eval", "fmnist:test:10",
                                                          "--out", "a.json"} << "another model";
    QTest::newRow("allocate anchors missing") << QStringList{"allocate", "--table", t, "--max-size-ratio", "0.2",
                                                             "--anchors", "/nonexistent/a.json", "--json"}
                                              << "Cannot open the anchors file";
    QTest::newRow("allocate anchors not anchors") << QStringList{"allocate", "--table", t, "--max-size-ratio", "0.2",
                                                                 "--anchors", t, "--json"} << "not an anchors file";
    QTest::newRow("bench ip sizes") << QStringList{"bench", "ip", "--sizes", "54by9"} << "LAYERSxOPTIONS";
}

void TestAllocCli::badInput() {
    QFETCH(QStringList, args);
    QFETCH(QString, phrase);
    args.replaceInStrings("@TABLE@", table_).replaceInStrings("@ALLOC@", alloc_);
    const Run r = ptq(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(phrase), qPrintable(r.err));
    QCOMPARE(r.err.count('\n'), 1);  // one sentence
}

void TestAllocCli::benchIp() {
    const Run r = ptq({"bench", "ip", "--sizes", "12x6,20x9", "--positions", "12", "--tables", "none", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonArray rows = r.json()["rows"].toArray();
    QCOMPARE(rows.size(), 2);
    for (const QJsonValue& v : rows) {
        QCOMPARE(v.toObject()["mismatches"].toInt(), 0);
        QCOMPARE(v.toObject()["positions"].toInt(), 12);
    }
    QVERIFY(r.json()["pareto"].toObject()["size_points"].toInt() > 0);
    // a real table, repeated with jitter: the one-row programme answers, plain lp_solve agrees
    const QString table = PTQ_BENCH_TABLE_DIR "/resnet20_fmnist.json";
    const Run t = ptq({"bench", "ip", "--sizes", "12x6", "--tables", table, "--copies", "1,2", "--positions", "20",
                       "--one-shot-positions", "5", "--one-shot-limit", "20", "--no-cbc", "--json"});
    QVERIFY2(t.exitCode == 0, qPrintable(t.err));
    const QJsonArray trows = t.json()["rows"].toArray();
    QCOMPARE(trows.size(), 3);
    for (int i = 1; i < 3; ++i) {
        const QJsonObject o = trows[i].toObject();
        QCOMPARE(o["instance"].toString(), QString("resnet20_fmnist x%1").arg(i));
        QCOMPARE(o["layers"].toInt(), 22 * i);
        QCOMPARE(o["mismatches"].toInt(), 0);
        QCOMPARE(o["one_shot_timeouts"].toInt(), 0);
        QVERIFY(o["one_row_solves"].toInt() > 10);
        QCOMPARE(o["cbc_runs"].toInt(), 0);
    }
    QCOMPARE(ptq({"bench", "ip", "--copies", "0"}).exitCode, 2);
    QCOMPARE(ptq({"bench", "ip", "--cbc", "/no/such/cbc"}).exitCode, 2);
}

// A session end to end on the demo: the stages in order, their times adding up, the peak RSS
// never falling, and the first allocation within its budget.
void TestAllocCli::benchWorkflow() {
    const Run r = ptq({"bench", "workflow", demo, "--calib", "fmnist:train:64", "--options", "w4a8,w8a8", "--ratio",
                       "0.2", "--no-pipelines", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject o = r.json();
    QCOMPARE(o["layers"].toInt(), 22);
    QCOMPARE(o["options"].toInt(), 2);
    QCOMPARE(o["samples"].toInt(), 64);
    const QJsonArray stages = o["stages"].toArray();
    QCOMPARE(stages.size(), 5);
    const char* names[] = {"open", "estimate", "first allocation", "table", "measured allocation"};
    double since = 0, rss = 0;
    for (int i = 0; i < 5; ++i) {
        const QJsonObject s = stages[i].toObject();
        QCOMPARE(s["stage"].toString(), QString(names[i]));
        QVERIFY(s["seconds"].toDouble() >= 0);
        since += s["seconds"].toDouble();
        QVERIFY(std::abs(s["since_open_s"].toDouble() - since) < 1e-3);
        QVERIFY(s["peak_rss_mb"].toDouble() >= rss && s["peak_rss_mb"].toDouble() > 50);
        rss = s["peak_rss_mb"].toDouble();
    }
    const QString allocation = o["allocation"].toString();
    const QRegularExpressionMatch m = QRegularExpression("^optimal: size ([0-9.]+) of FP32").match(allocation);
    QVERIFY2(m.hasMatch() && m.captured(1).toDouble() <= 0.2 + 1e-4, qPrintable(allocation));
    // The estimate's allocation, its rank correlation and its measured cost beside the optimum.
    const QRegularExpressionMatch first =
        QRegularExpression("^optimal: size ([0-9.]+) of FP32").match(o["first_allocation"].toString());
    QVERIFY2(first.hasMatch() && first.captured(1).toDouble() <= 0.2 + 1e-4,
             qPrintable(o["first_allocation"].toString()));
    QVERIFY2(o["rank_correlation"].toDouble() > 0.3 && o["rank_correlation"].toDouble() <= 1.0,
             qPrintable(QString::number(o["rank_correlation"].toDouble())));
    QVERIFY(o["first_measured_delta_loss"].toDouble() >= o["optimal_delta_loss"].toDouble() - 1e-6);
    QVERIFY(o["same_choices"].toInt() >= 0 && o["same_choices"].toInt() <= 22);
    QCOMPARE(ptq({"bench", "workflow", demo}).exitCode, 2);  // no --calib
    QCOMPARE(ptq({"bench", "workflow", demo, "--calib", "fmnist:train:64", "--ratio", "2"}).exitCode, 2);
}

QTEST_GUILESS_MAIN(TestAllocCli)
#include "test_alloc_cli.moc"
