// The sensitivity table and allocation files: round trips, provenance, the table's problem, and
// the errors for bad files.
#include "core/alloc/allocation.h"
#include "core/workflow/allocate.h"
#include "core/alloc/sensitivity_table.h"
#include "core/alloc/solver.h"
#include "core/util/error.h"

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>

using namespace ptq;

namespace {

SensitivityTable sampleTable() {
    SensitivityTable t;
    t.provenance.modelPath = "model.pt";
    t.provenance.modelSha256 = "00ff";
    t.provenance.modelBytes = 1234;
    t.provenance.data = "fmnist:train:100";
    t.provenance.options = {"w2a8", "w4a4", "w8a8"};
    SensitivityResult& r = t.result;
    r.metric = "cross_entropy";
    r.options = {BitOption{2, 8}, BitOption{4, 4}, BitOption{8, 8}};
    r.samples = 100;
    r.fp32Top1 = 91;
    r.baseTop1 = 90.5;
    r.fp32Loss = 0.30;
    r.baseLoss = 0.32;
    r.layers = {{"conv1", "conv2d", 100, 5000}, {"fc", "linear", 40, 40}};
    r.cells = {{{0.5, -3, 0.1}, {-0.01, 0.5, 0.01}, {0, 0, 0.001}}, {{0.2, -1, 0.2}, {0.05, -0.25, 0.02}, {0, 0, 0}}};
    return t;
}

void writeText(const QString& path, const QByteArray& text) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

/// Runs @p read and checks that it throws InvalidInput with @p phrase in its sentence.
template <typename Read>
void expectInvalid(Read read, const QString& phrase) {
    try {
        read();
        QFAIL("a bad file was read");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains(phrase), e.what());
    }
}

}  // namespace

class TestFiles : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void tableRoundTrip();
    void provenanceDifferences();
    void problemFromTheTable();
    void allocationRoundTrip();
    void top1PerLossFit();
    void badTables_data();
    void badTables();
    void badAllocations_data();
    void badAllocations();
};

void TestFiles::tableRoundTrip() {
    QTemporaryDir dir;
    const std::string path = (dir.path() + "/t.json").toStdString();
    const SensitivityTable t = sampleTable();
    writeSensitivityTable(path, t);
    const SensitivityTable back = readSensitivityTable(path);
    QVERIFY(back.provenance.differenceFrom(t.provenance).empty());
    QCOMPARE(back.provenance.modelBytes, int64_t(1234));
    QCOMPARE(back.result.layers.size(), size_t(2));
    QCOMPARE(back.result.layers[0].macs, int64_t(5000));
    QCOMPARE(back.result.cells[1][1].deltaLoss, 0.05);
    QCOMPARE(back.result.cells[0][0].deltaTop1, -3.0);
    QCOMPARE(back.result.options[1].activationBits, 4);
    QCOMPARE(back.result.baseTop1, 90.5);
}

void TestFiles::provenanceDifferences() {
    const TableProvenance a = sampleTable().provenance;
    TableProvenance b = a;
    b.modelPath = "elsewhere/model.pt";  // same content elsewhere: still the same table
    QVERIFY(a.differenceFrom(b).empty());
    b.modelSha256 = "11ee";
    QVERIFY(a.differenceFrom(b).find("model") != std::string::npos);
    b = a;
    b.data = "fmnist:train:200";
    QVERIFY(a.differenceFrom(b).find("data") != std::string::npos);
    b = a;
    b.options = {"w4a8"};
    QVERIFY(a.differenceFrom(b).find("options") != std::string::npos);
    b = a;
    b.granularity = "per-tensor";
    QVERIFY(!a.differenceFrom(b).empty());
}

void TestFiles::problemFromTheTable() {
    const AllocationProblem p = problemFromTable(sampleTable(), DegradationMeasure::DeltaLoss);
    QCOMPARE(p.layers, (std::vector<std::string>{"conv1", "fc"}));
    QCOMPARE(p.options, (std::vector<std::string>{"w2a8", "w4a4", "w8a8"}));
    // -0.01 measured: noise, clamped to 0 plus the local-MSE tie-break (0.01 of the worst 0.1).
    QVERIFY(std::abs(p.degradation[0][1] - kTieBreak / 2 * 0.1) < 1e-15);
    QVERIFY(std::abs(p.degradation[1][0] - (0.2 + kTieBreak / 2)) < 1e-15);
    QVERIFY(p.degradation[1][2] == 0.0);  // no local error: no tie-break
    QCOMPARE(p.size[0][0], 200.0);       // 100 params x 2 bits
    QCOMPARE(p.bops[0][1], 5000.0 * 4 * 4);
    QCOMPARE(p.referenceSize, 140.0 * 32);
    QCOMPARE(p.referenceBops, 5040.0 * 32 * 32);
    const AllocationProblem top1 = problemFromTable(sampleTable(), DegradationMeasure::DeltaTop1);
    QVERIFY(std::abs(top1.degradation[0][0] - 3.0) < 1e-6);
    QVERIFY(top1.degradation[0][1] < 1e-6);  // a measured gain counts as none
}

void TestFiles::allocationRoundTrip() {
    QTemporaryDir dir;
    const SensitivityTable t = sampleTable();
    AllocationSettings settings;
    settings.maxSizeRatio = 0.3;
    settings.locks = {{"fc", "w8a8"}};
    const AllocationOutcome outcome = allocateTable(t, "t.json", settings);
    const AllocationFile& a = outcome.file;
    QCOMPARE(a.locks.size(), size_t(1));
    const std::string path = (dir.path() + "/a.json").toStdString();
    writeAllocation(path, a);
    const AllocationFile back = readAllocation(path);
    QCOMPARE(back.layers.size(), size_t(2));
    QCOMPARE(back.layers[1].option.name(), std::string("w8a8"));
    QCOMPARE(back.layers[0].option.name(), a.layers[0].option.name());
    QCOMPARE(back.sizeBits, a.sizeBits);
    QCOMPARE(back.degradation, a.degradation);
    QVERIFY(std::abs(a.degradation - outcome.allocation.deltaLoss) < 1e-12);
    QCOMPARE(back.deltaTop1, a.deltaTop1);
    QVERIFY(back.maxSizeRatio.has_value() && *back.maxSizeRatio == 0.3);
    QVERIFY(!back.maxDegradation.has_value());
    QCOMPARE(back.locks.size(), size_t(1));
    QCOMPARE(back.locks[0].first, std::string("fc"));
    QCOMPARE(back.modelSha256, std::string("00ff"));
    QCOMPARE(back.table.data, std::string("fmnist:train:100"));
    QCOMPARE(back.predictedTop1(), 90.5 + a.deltaTop1);
    QCOMPARE(back.top1PerLoss, top1PerLoss(t.result));
    QCOMPARE(back.fp32Loss, t.result.fp32Loss);
    QCOMPARE(back.baseLoss, t.result.baseLoss);
    const double viaLoss = a.fp32Top1 + back.top1PerLoss * ((t.result.baseLoss - t.result.fp32Loss) + a.degradation);
    QVERIFY(std::abs(back.predictedTop1FromLoss() - viaLoss) < 1e-12);
    // A file written before the fit existed: no prediction from the loss, the other one stays.
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    f.close();
    QJsonObject predicted = o["predicted"].toObject();
    predicted.remove("top1_per_loss");
    predicted.remove("top1_from_loss");
    o["predicted"] = predicted;
    writeText(QString::fromStdString(path), QJsonDocument(o).toJson());
    const AllocationFile old = readAllocation(path);
    QVERIFY(std::isnan(old.predictedTop1FromLoss()));
    QCOMPARE(old.predictedTop1(), back.predictedTop1());
}

// Least squares through the origin of Δtop-1 on Δloss over every cell of the table.
void TestFiles::top1PerLossFit() {
    const SensitivityTable t = sampleTable();
    const double xy = 0.5 * -3 + -0.01 * 0.5 + 0.2 * -1 + 0.05 * -0.25;
    const double xx = 0.5 * 0.5 + 0.01 * 0.01 + 0.2 * 0.2 + 0.05 * 0.05;
    QVERIFY(std::abs(top1PerLoss(t.result) - xy / xx) < 1e-12);
    SensitivityResult flat = t.result;
    for (auto& row : flat.cells)
        for (auto& c : row) c.deltaLoss = 0;
    QCOMPARE(top1PerLoss(flat), 0.0);  // nothing to fit: no prediction from the loss
}

void TestFiles::badTables_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("not json") << QByteArray("{ nope") << "not JSON";
    QTest::newRow("other format") << QByteArray(R"({"format": "ptq-allocation", "version": 1})") << "not ptq-sensitivity";
    QTest::newRow("newer version") << QByteArray(R"({"format": "ptq-sensitivity", "version": 7})") << "version 7";
    QTest::newRow("no options") << QByteArray(R"({"format": "ptq-sensitivity", "version": 1, "provenance": {}})")
                                << "no options";
    QTest::newRow("bad option") << QByteArray(R"({"format": "ptq-sensitivity", "version": 1,
        "provenance": {"options": ["w4b8"]}})") << "bad option";
    QTest::newRow("cells short") << QByteArray(R"({"format": "ptq-sensitivity", "version": 1,
        "provenance": {"options": ["w4a8", "w8a8"]},
        "layers": [{"name": "conv1", "cells": [{"delta_loss": 0, "delta_top1": 0}]}]})") << "do not match";
    QTest::newRow("no layers") << QByteArray(R"({"format": "ptq-sensitivity", "version": 1,
        "provenance": {"options": ["w4a8"]}, "layers": []})") << "no layers";
}

void TestFiles::badTables() {
    QFETCH(QByteArray, text);
    QFETCH(QString, phrase);
    QTemporaryDir dir;
    const QString path = dir.path() + "/bad.json";
    writeText(path, text);
    expectInvalid([&] { readSensitivityTable(path.toStdString()); }, phrase);
    QVERIFY_THROWS_EXCEPTION(Error, readSensitivityTable((dir.path() + "/missing.json").toStdString()));
}

void TestFiles::badAllocations_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("not json") << QByteArray("[1, 2") << "not JSON";
    QTest::newRow("a table") << QByteArray(R"({"format": "ptq-sensitivity", "version": 1})") << "not ptq-allocation";
    QTest::newRow("version") << QByteArray(R"({"format": "ptq-allocation", "version": 2})") << "version 2";
    QTest::newRow("no layers") << QByteArray(R"({"format": "ptq-allocation", "version": 1, "layers": []})")
                               << "no layers";
    QTest::newRow("bad option") << QByteArray(R"({"format": "ptq-allocation", "version": 1,
        "layers": [{"name": "conv1", "option": "w9a8"}]})") << "conv1";
}

void TestFiles::badAllocations() {
    QFETCH(QByteArray, text);
    QFETCH(QString, phrase);
    QTemporaryDir dir;
    const QString path = dir.path() + "/bad.json";
    writeText(path, text);
    expectInvalid([&] { readAllocation(path.toStdString()); }, phrase);
}

QTEST_GUILESS_MAIN(TestFiles)
#include "test_files.moc"
