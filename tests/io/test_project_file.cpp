// Project files (.ptqproj): save -> load gives the same session field by field, a moved project
// still finds its model, a changed model is noticed, and every kind of bad file is refused with a
// sentence naming its JSON path.
#include "project_sample.h"

#include "core/util/error.h"
#include "core/util/runtime.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QtTest>

#include <functional>

using namespace ptq;

namespace {
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";

std::vector<ptqtest::SampleLayer> layersOf(const ModelSummary& s) {
    std::vector<ptqtest::SampleLayer> layers;
    for (const LayerSummary& l : s.layers) layers.push_back({l.name, l.kind, l.weightShape, l.macs});
    return layers;
}

QJsonObject readJson(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}
void writeBytes(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(bytes);
}

/// Sets @p path's modification time @p seconds from now.
void touch(const QString& path, int seconds) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.setFileTime(QDateTime::currentDateTime().addSecs(seconds), QFileDevice::FileModificationTime));
}

void compareParams(const QuantParams& a, const QuantParams& b) {
    QVERIFY(a.scale == b.scale);
    QVERIFY(a.zeroPoint == b.zeroPoint);
    QVERIFY(a.shift == b.shift);
}

/// Every field of two sessions (the model by path).
void compareSessions(const Session& a, const Session& b) {
    QCOMPARE(a.model->summary().path, b.model->summary().path);
    QCOMPARE(a.calibrationSource.text, b.calibrationSource.text);
    QCOMPARE(a.evaluationSource.text, b.evaluationSource.text);
    QVERIFY(a.sensitivity && b.sensitivity);
    const SensitivityResult &ta = *a.sensitivity, &tb = *b.sensitivity;
    QCOMPARE(ta.metric, tb.metric);
    QVERIFY(ta.options == tb.options);
    QVERIFY(ta.base == tb.base);
    QCOMPARE(ta.layers.size(), tb.layers.size());
    for (size_t i = 0; i < ta.layers.size(); ++i) {
        QCOMPARE(ta.layers[i].name, tb.layers[i].name);
        QCOMPARE(ta.layers[i].kind, tb.layers[i].kind);
        QCOMPARE(ta.layers[i].params, tb.layers[i].params);
        QCOMPARE(ta.layers[i].macs, tb.layers[i].macs);
        for (size_t k = 0; k < ta.options.size(); ++k) {
            QCOMPARE(ta.cells[i][k].deltaLoss, tb.cells[i][k].deltaLoss);
            QCOMPARE(ta.cells[i][k].deltaTop1, tb.cells[i][k].deltaTop1);
            QCOMPARE(ta.cells[i][k].localMse, tb.cells[i][k].localMse);
        }
    }
    QCOMPARE(ta.fp32Top1, tb.fp32Top1);
    QCOMPARE(ta.baseTop1, tb.baseTop1);
    QCOMPARE(ta.fp32Loss, tb.fp32Loss);
    QCOMPARE(ta.baseLoss, tb.baseLoss);
    QCOMPARE(ta.samples, tb.samples);
    QVERIFY(a.problem && b.problem);
    QVERIFY(a.allocation.choice == b.allocation.choice);
    QCOMPARE(a.allocation.feasible, b.allocation.feasible);
    QCOMPARE(a.allocation.status, b.allocation.status);
    QCOMPARE(a.allocation.deltaLoss, b.allocation.deltaLoss);
    QCOMPARE(a.allocation.deltaTop1, b.allocation.deltaTop1);
    QCOMPARE(a.allocation.sizeBytes, b.allocation.sizeBytes);
    QCOMPARE(a.allocation.bops, b.allocation.bops);
    QCOMPARE(a.allocation.solverMs, b.allocation.solverMs);
    QVERIFY(a.pins == b.pins);
    QCOMPARE(a.measured.size(), b.measured.size());
    for (size_t i = 0; i < a.measured.size(); ++i) {
        const MeasuredAllocation &x = a.measured[i], &y = b.measured[i];
        QVERIFY(x.choice == y.choice);
        QCOMPARE(x.pipeline, y.pipeline);
        QCOMPARE(x.evaluationSource, y.evaluationSource);
        QCOMPARE(x.top1, y.top1);
        QCOMPARE(x.fp32Top1, y.fp32Top1);
        QCOMPARE(x.loss, y.loss);
        QCOMPARE(x.predictedDeltaTop1, y.predictedDeltaTop1);
        QCOMPARE(x.sizeBytes, y.sizeBytes);
        QCOMPARE(x.bops, y.bops);
        QCOMPARE(x.seconds, y.seconds);
    }
    QVERIFY(a.adaquant && b.adaquant);
    QCOMPARE(a.adaquant->size(), b.adaquant->size());
    for (const auto& [key, x] : a.adaquant->results()) {
        const AdaQuantLayerResult* y = b.adaquant->find(x.layer, x.weightBits, x.activationBits);
        QVERIFY2(y, x.layer.c_str());
        QVERIFY(x.weight == y->weight);
        QVERIFY(x.weightShape == y->weightShape);
        QVERIFY(x.bias == y->bias);
        compareParams(x.weightParams, y->weightParams);
        compareParams(x.activationParams, y->activationParams);
        QCOMPARE(x.mseBefore, y->mseBefore);
        QCOMPARE(x.mseAfter, y->mseAfter);
        QCOMPARE(x.applied, y->applied);
        QCOMPARE(x.reluInLoss, y->reluInLoss);
        QCOMPARE(x.iterations, y->iterations);
        QCOMPARE(x.samples, y->samples);
        QCOMPARE(x.seconds, y->seconds);
        QCOMPARE(x.macsPerSample, y->macsPerSample);
    }
}
}  // namespace

class TestProjectFile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void saveLoadGivesTheSameSession();
    void movedProjectFindsItsModel();
    void changedModelIsNoticed();
    void modelWithOtherLayersIsRefused();
    void badFiles_data();
    void badFiles();
    void autosaveNewerThanProjectIsFound();

private:
    QTemporaryDir dir_;
    std::shared_ptr<const LoadedModel> model_;
    Session session_;
    Project project_;
    QString good_;
};

void TestProjectFile::initTestCase() {
    initRuntime();
    QVERIFY(dir_.isValid());
    model_ = openModel({demo, {}});
    project_ = ptqtest::sampleProject(layersOf(model_->summary()), demo, 7, 4);
    session_ = sessionFromProject(project_, model_);
    good_ = dir_.filePath("good.ptqproj");
    writeProject(good_.toStdString(), project_);
}

void TestProjectFile::saveLoadGivesTheSameSession() {
    // From a session to the file and back to a session.
    const Project saved = projectFromSession(session_, project_.sensitivityRequest, project_.budget);
    QCOMPARE(saved.modelSha256, fileSha256(demo));
    const QString path = dir_.filePath("roundtrip.ptqproj");
    writeProject(path.toStdString(), saved);
    const Project back = readProject(path.toStdString());
    QCOMPARE(QFileInfo(QString::fromStdString(back.modelPath)).canonicalFilePath(),
             QFileInfo(QString::fromStdString(demo)).canonicalFilePath());
    QCOMPARE(back.modelSha256, saved.modelSha256);
    // The card the model was opened with travels in the project (a card given only in the GUI too).
    QVERIFY(saved.modelCard && back.modelCard);
    QCOMPARE(back.modelCard->inputShape, (std::vector<int64_t>{1, 28, 28}));
    QCOMPARE(back.modelCard->mean, saved.modelCard->mean);
    QCOMPARE(back.modelCard->std, saved.modelCard->std);
    QCOMPARE(back.modelCard->classNames, saved.modelCard->classNames);
    QCOMPARE(back.modelCard->effectiveCropRatio(), 1.0);
    QVERIFY(back.sensitivityRequest.options == saved.sensitivityRequest.options);
    QCOMPARE(back.sensitivityRequest.quantizer.weightRange, RangeMethod::Mse);
    QCOMPARE(back.sensitivityRequest.quantizer.batchSize, int64_t(128));
    QCOMPARE(back.budget.metric, CostMetric::Bops);
    QCOMPARE(back.budget.reference, CostReference::Int8);
    QCOMPARE(back.budget.costRatio, 0.375);
    QVERIFY(projectModelChange(back).empty());
    const Session loaded = sessionFromProject(back, model_);
    compareSessions(session_, loaded);
    // The file's AdaQuant weights are base64, not decimal arrays.
    const QJsonObject json = readJson(path);
    QVERIFY(!json.contains("calibration_skip_bad"));  // written only when set

    // A calibration source that leaves unreadable images out keeps doing so when reopened.
    Session skipping = session_;
    skipping.calibrationSource.skipBad = true;
    const QString skipPath = dir_.filePath("skipbad.ptqproj");
    writeProject(skipPath.toStdString(), projectFromSession(skipping, project_.sensitivityRequest, project_.budget));
    QCOMPARE(readJson(skipPath)["calibration_skip_bad"].toBool(), true);
    const Project skipBack = readProject(skipPath.toStdString());
    QVERIFY(skipBack.calibrationSkipBad && !skipBack.evaluationSkipBad);
    QVERIFY(sessionFromProject(skipBack, model_).calibrationSource.skipBad);
    QVERIFY(json["adaquant"].toArray()[0].toObject()["weight"].isString());
    QCOMPARE(json["pins"].toArray().size(), 2);
}

void TestProjectFile::movedProjectFindsItsModel() {
    QTemporaryDir a, b;
    QVERIFY(QFile::copy(QString::fromStdString(demo), a.filePath("model.pt")));
    Project p = project_;
    p.modelPath = a.filePath("model.pt").toStdString();
    writeProject(a.filePath("p.ptqproj").toStdString(), p);
    QCOMPARE(readJson(a.filePath("p.ptqproj"))["model"].toObject()["path"].toString(), QString("model.pt"));
    // Both files moved together: the relative path wins over the stale absolute one.
    QVERIFY(QFile::copy(a.filePath("model.pt"), b.filePath("model.pt")));
    QVERIFY(QFile::copy(a.filePath("p.ptqproj"), b.filePath("p.ptqproj")));
    QVERIFY(QFile::remove(a.filePath("model.pt")));
    const Project moved = readProject(b.filePath("p.ptqproj").toStdString());
    QCOMPARE(QString::fromStdString(moved.modelPath), b.filePath("model.pt"));
    QVERIFY(projectModelChange(moved).empty());
}

void TestProjectFile::changedModelIsNoticed() {
    const QString copy = dir_.filePath("changed.pt");
    QVERIFY(QFile::copy(QString::fromStdString(demo), copy));
    Project p = project_;
    p.modelPath = copy.toStdString();
    const QString path = dir_.filePath("changed.ptqproj");
    writeProject(path.toStdString(), p);
    QVERIFY(projectModelChange(readProject(path.toStdString())).empty());
    QFile f(copy);
    QVERIFY(f.open(QIODevice::Append));
    f.write("x");
    f.close();
    const std::string change = projectModelChange(readProject(path.toStdString()));
    QVERIFY2(QString::fromStdString(change).contains("has changed since the project was saved"), change.c_str());
    QVERIFY(QFile::remove(copy));
    QVERIFY(QString::fromStdString(projectModelChange(readProject(path.toStdString()))).contains("is missing"));
}

void TestProjectFile::modelWithOtherLayersIsRefused() {
    Project p = project_;
    auto table = std::make_shared<SensitivityResult>(*p.sensitivity);
    table->layers[3].name = "conv9";
    p.sensitivity = table;
    p.adaquant = nullptr;
    try {
        sessionFromProject(p, model_);
        QFAIL("a table of another model was installed");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains(R"(sensitivity.layers[3].name: "conv9" is not a layer of the model)"),
                 e.what());
    }
}

void TestProjectFile::badFiles_data() {
    using Edit = std::function<void(QJsonObject&)>;
    QTest::addColumn<QByteArray>("text");  // used as is when not empty
    QTest::addColumn<Edit>("edit");
    QTest::addColumn<QString>("phrase");
    const auto set = [](QJsonObject& o, const QString& key, const QString& sub, int index, const QString& leaf,
                        const QJsonValue& v) {
        QJsonArray a = o[key].toArray();
        QJsonObject item = a[index].toObject();
        if (sub.isEmpty()) item[leaf] = v;
        else {
            QJsonObject inner = item[sub].toObject();
            inner[leaf] = v;
            item[sub] = inner;
        }
        a[index] = item;
        o[key] = a;
    };
    QTest::newRow("malformed") << QByteArray("{\"format\": \"ptq-project\", ") << Edit() << "is not valid JSON";
    QTest::newRow("not an object") << QByteArray("[1, 2]") << Edit() << "is not a JSON object";
    QTest::newRow("format") << QByteArray() << Edit([](QJsonObject& o) { o["format"] = "ptq-config"; })
                            << R"(format: "ptq-config" is not "ptq-project")";
    QTest::newRow("version") << QByteArray() << Edit([](QJsonObject& o) { o["version"] = 2; })
                             << "version: 2 is not a version this PTQ Studio reads";
    QTest::newRow("skip bad") << QByteArray() << Edit([](QJsonObject& o) { o["calibration_skip_bad"] = "yes"; })
                              << "calibration_skip_bad: is not true or false";
    QTest::newRow("no model") << QByteArray() << Edit([](QJsonObject& o) { o.remove("model"); })
                              << "model: is missing";
    const auto card = [](const QJsonValue& cropRatio, const QJsonArray& mean) {
        return Edit([=](QJsonObject& o) {
            QJsonObject model = o["model"].toObject();
            model["card"] = QJsonObject{{"input_shape", QJsonArray{1, 28, 28}}, {"mean", mean}, {"std", QJsonArray{0.5}},
                                        {"preset", ""}, {"crop_ratio", cropRatio}, {"class_names", QJsonArray{}}};
            o["model"] = model;
        });
    };
    QTest::newRow("card crop ratio") << QByteArray() << card(2.0, {0.5}) << "model.card: gives a crop ratio of 2";
    QTest::newRow("card mean") << QByteArray() << card(1.0, {"a"}) << "model.card.mean: holds something other";
    QTest::newRow("pin layer") << QByteArray()
                               << Edit([=](QJsonObject& o) {
                                      QJsonArray a = o["pins"].toArray();
                                      a.append(QJsonObject{{"layer", "conv9"}, {"option", "w4a8"}});
                                      o["pins"] = a;
                                  })
                               << R"(pins[2].layer: "conv9" is not a layer of the model)";
    QTest::newRow("pin option") << QByteArray()
                                << Edit([=](QJsonObject& o) { set(o, "pins", {}, 1, "option", "w3a8"); })
                                << R"(pins[1].option: "w3a8" is not an option of the sensitivity table)";
    QTest::newRow("pin bits") << QByteArray() << Edit([=](QJsonObject& o) { set(o, "pins", {}, 0, "option", "w40a8"); })
                              << "pins[0].option: ";
    QTest::newRow("adaquant bits") << QByteArray()
                                   << Edit([=](QJsonObject& o) { set(o, "adaquant", {}, 2, "w_bits", 17); })
                                   << "adaquant[2].w_bits: 17 is out of range";
    QTest::newRow("adaquant layer") << QByteArray()
                                    << Edit([=](QJsonObject& o) { set(o, "adaquant", {}, 0, "layer", "nosuch"); })
                                    << R"(adaquant[0].layer: "nosuch" is not a layer of the model)";
    QTest::newRow("adaquant weight") << QByteArray()
                                     << Edit([=](QJsonObject& o) { set(o, "adaquant", {}, 1, "weight", "AAAAAA=="); })
                                     << "adaquant[1].weight: holds 1 values for a weight of";
    QTest::newRow("adaquant payload") << QByteArray()
                                      << Edit([=](QJsonObject& o) { set(o, "adaquant", {}, 1, "bias", "AAAA"); })
                                      << "adaquant[1].bias: is not base64 of little-endian float32 values";
    QTest::newRow("adaquant scale") << QByteArray()
                                    << Edit([=](QJsonObject& o) {
                                           set(o, "adaquant", "weight_params", 1, "zero_point", QJsonArray{1});
                                       })
                                    << "adaquant[1].weight_params.zero_point: has not one value per scale";
    QTest::newRow("choice length") << QByteArray()
                                   << Edit([](QJsonObject& o) {
                                          QJsonObject a = o["allocation"].toObject();
                                          QJsonArray c = a["choice"].toArray();
                                          c.removeLast();
                                          a["choice"] = c;
                                          o["allocation"] = a;
                                      })
                                   << "allocation.choice: has ";
    QTest::newRow("measured option") << QByteArray()
                                     << Edit([](QJsonObject& o) {
                                            QJsonArray m = o["measured"].toArray();
                                            QJsonObject x = m[1].toObject();
                                            QJsonArray c = x["choice"].toArray();
                                            c[4] = "w6a8";
                                            x["choice"] = c;
                                            m[1] = x;
                                            o["measured"] = m;
                                        })
                                     << R"(measured[1].choice[4]: "w6a8" is not an option)";
    QTest::newRow("budget") << QByteArray()
                            << Edit([](QJsonObject& o) {
                                   QJsonObject b = o["budget"].toObject();
                                   b["metric"] = "latency";
                                   o["budget"] = b;
                               })
                            << R"(budget.metric: "latency" is not size or bops)";
    QTest::newRow("request bits") << QByteArray()
                                  << Edit([](QJsonObject& o) {
                                         QJsonObject r = o["sensitivity_request"].toObject();
                                         r["options"] = QJsonArray{"w4a8", "w1a8"};
                                         o["sensitivity_request"] = r;
                                     })
                                  << "sensitivity_request.options[1]: ";
    QTest::newRow("table version") << QByteArray()
                                   << Edit([](QJsonObject& o) {
                                          QJsonObject t = o["sensitivity"].toObject();
                                          t["version"] = 9;
                                          o["sensitivity"] = t;
                                      })
                                   << "sensitivity: The project";
    QTest::newRow("pins without table") << QByteArray()
                                        << Edit([](QJsonObject& o) {
                                               o.remove("sensitivity");
                                               o.remove("allocation");
                                           })
                                        << "pins: needs the sensitivity table";
}

void TestProjectFile::badFiles() {
    using Edit = std::function<void(QJsonObject&)>;
    QFETCH(QByteArray, text);
    QFETCH(Edit, edit);
    QFETCH(QString, phrase);
    const QString path = dir_.filePath("bad.ptqproj");
    if (text.isEmpty()) {
        QJsonObject o = readJson(good_);
        QVERIFY(!o.isEmpty());
        edit(o);
        text = QJsonDocument(o).toJson();
    }
    writeBytes(path, text);
    Project current = readProject(good_.toStdString());
    try {
        current = readProject(path.toStdString());
        QFAIL("a bad project was read");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains(phrase), e.what());
        QVERIFY2(QString(e.what()).contains("bad.ptqproj"), e.what());
    }
    // The value read before is what the caller still holds.
    QVERIFY(current.sensitivity && current.sensitivity->layers.size() == project_.sensitivity->layers.size());
    QVERIFY(current.pins == project_.pins);
}

void TestProjectFile::autosaveNewerThanProjectIsFound() {
    const QString project = dir_.filePath("auto.ptqproj");
    const std::string autosave = autosavePathFor(project.toStdString());
    QCOMPARE(QString::fromStdString(autosave), project + ".autosave");
    writeProject(project.toStdString(), project_);
    QVERIFY(recoverableAutosave(project.toStdString()).empty());  // none yet
    writeProject(autosave, project_);
    // An autosave older than its project is stale (the project was saved after it).
    touch(QString::fromStdString(autosave), -60);
    QVERIFY(recoverableAutosave(project.toStdString()).empty());
    touch(QString::fromStdString(autosave), 60);
    QCOMPARE(recoverableAutosave(project.toStdString()), autosave);
}

QTEST_GUILESS_MAIN(TestProjectFile)
#include "test_project_file.moc"
