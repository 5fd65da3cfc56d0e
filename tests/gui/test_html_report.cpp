// The HTML report: one self-contained page (no external links) with a table row for every layer
// and two embedded PNG plots that decode to non-blank images; and `ptq export --format html` on
// the demo model through the real executable.
#include "../ptq_process.h"

#include "core/workflow/budget.h"
#include "ui/report/html_report.h"

#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtTest/QtTest>
#include <QtWidgets/QApplication>

using namespace ptq;

namespace {

/// Distinct colours in @p image (sampled on a grid): a blank image has one.
int colours(const QImage& image) {
    QSet<QRgb> seen;
    for (int y = 0; y < image.height(); y += 3)
        for (int x = 0; x < image.width(); x += 3) seen.insert(image.pixel(x, y));
    return int(seen.size());
}

/// The images embedded in @p html as data URIs, decoded.
QList<QImage> embeddedImages(const QString& html) {
    QList<QImage> images;
    static const QRegularExpression re(QStringLiteral("<img [^>]*src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\""));
    for (auto it = re.globalMatch(html); it.hasNext();)
        images << QImage::fromData(QByteArray::fromBase64(it.next().captured(1).toLatin1()), "PNG");
    return images;
}

/// Checks @p html: well formed enough, a row for every layer of @p table, two plots, no links.
void checkReport(const QString& html, const SensitivityResult& table) {
    QVERIFY(html.startsWith(QStringLiteral("<!DOCTYPE html>")));
    QVERIFY(html.trimmed().endsWith(QStringLiteral("</html>")));
    QCOMPARE(html.count(QStringLiteral("<table")), html.count(QStringLiteral("</table>")));
    QCOMPARE(html.count(QStringLiteral("<tr")), html.count(QStringLiteral("</tr>")));
    for (const SensitivityLayer& l : table.layers)
        QVERIFY2(html.contains(QStringLiteral("<td class=\"l\">%1</td>").arg(QString::fromStdString(l.name).toHtmlEscaped())),
                 l.name.c_str());
    // Self-contained: nothing fetched from elsewhere.
    QVERIFY(!html.contains(QStringLiteral("http://")) && !html.contains(QStringLiteral("https://")));
    QVERIFY(!html.contains(QStringLiteral("<link")) && !html.contains(QStringLiteral("<script")));
    const QList<QImage> images = embeddedImages(html);
    QCOMPARE(images.size(), 2);
    for (const QImage& image : images) {
        QVERIFY(!image.isNull());
        QVERIFY(image.width() > 300 && image.height() > 200);
        QVERIFY2(colours(image) > 8, "a plot is blank");
    }
}

}  // namespace

class TestHtmlReport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void reportOfASyntheticTable();
    void exportHtmlFromTheCommandLine();
};

void TestHtmlReport::reportOfASyntheticTable() {
    ui::ReportData d;
    d.modelPath = "/models/synthetic.pt";
    d.modelSha256 = "00ff";
    d.table = syntheticSensitivity(30, 5);
    const BudgetProblem problem(d.table);
    BudgetRequest request;
    request.costRatio = 0.15;
    request.pins = {{2, 0}};
    const BudgetAllocation a = problem.solve(request);
    QVERIFY(a.feasible);
    d.choice = a.choice;
    d.pins = request.pins;
    d.settings = {{"calibration data", "fmnist:train:256"}};
    d.measured.push_back({a.choice, 90.5, d.table.baseLoss + a.deltaLoss * 1.2, d.table.baseLoss, "light on fmnist:test"});
    d.measuredTop1 = 90.5;
    d.evaluationSource = "fmnist:test";
    const QString html = ui::renderHtmlReport(d);
    checkReport(html, d.table);
    QVERIFY(html.contains(QStringLiteral("90.50 %")));
    QCOMPARE(html.count(QStringLiteral("<tr class=\"pinned\">")), 1);
    // The summary's size and compression agree with the allocation.
    const double fp32Bytes = problem.referenceCost(CostMetric::Size, CostReference::Fp32);
    QVERIFY2(html.contains(QStringLiteral("(%1 % of its size)").arg(a.sizeBytes / fp32Bytes * 100, 0, 'f', 1)),
             qPrintable(QString::number(a.sizeBytes / fp32Bytes)));
    // Each layer's chosen option is in its row.
    for (size_t i = 0; i < d.table.layers.size(); ++i)
        QVERIFY(html.contains(QStringLiteral("<td>%1</td><td class=\"l\">%2</td>")
                                  .arg(i)
                                  .arg(QString::fromStdString(d.table.layers[i].name))));
    QTemporaryDir dir;
    const QString path = dir.filePath("report.html");
    ui::writeHtmlReport(path.toStdString(), d);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    checkReport(QString::fromUtf8(f.readAll()), d.table);
}

void TestHtmlReport::exportHtmlFromTheCommandLine() {
    QTemporaryDir dir;
    const QString demo = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt");
    const QString table = dir.filePath("table.json"), alloc = dir.filePath("alloc.json"), html = dir.filePath("r.html");
    auto r = ptqtest::ptq({"sensitivity", demo, "--calib", "fmnist:train:64", "--options", "w2a8,w4a8,w8a8", "--out", table});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = ptqtest::ptq({"allocate", "--table", table, "--max-size-ratio", "0.15", "--out", alloc});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    // No display: ptq makes its own offscreen QApplication for the plots.
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("DISPLAY");
    env.remove("WAYLAND_DISPLAY");
    env.remove("QT_QPA_PLATFORM");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(PTQ_EXE), {"export", demo, "--alloc", alloc, "--eval", "fmnist:test:500", "--format", "html",
                                      "-o", html});
    QVERIFY(p.waitForFinished(600000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    QFile f(html);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(f.readAll());
    QFile tf(table);
    QVERIFY(tf.open(QIODevice::ReadOnly));
    const QJsonArray layers = QJsonDocument::fromJson(tf.readAll()).object()["layers"].toArray();
    SensitivityResult names;
    for (const QJsonValue& v : layers) names.layers.push_back({v.toObject()["name"].toString().toStdString(), "", 0, 0});
    QVERIFY(names.layers.size() > 10);
    checkReport(text, names);
    QVERIFY(text.contains(QStringLiteral("measured top-1")));
    QVERIFY(text.contains(QStringLiteral("on fmnist:test:500")));
    // --format html without --alloc is a usage error.
    r = ptqtest::ptq({"export", demo, "--w", "4", "--a", "8", "--calib", "fmnist:train:64", "--format", "html", "-o", html});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--alloc"), qPrintable(r.err));
}

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    TestHtmlReport t;
    return QTest::qExec(&t, argc, argv);
}
#include "test_html_report.moc"
