// ptq-render-icons: renders the SVG logo into the PNG sizes the hicolor icon theme wants, at
// build time, with Qt's own SVG renderer (no extra build dependency, no PNGs in the repository).
//
// Usage: ptq-render-icons LOGO.svg OUT_DIR SIZE...   writes OUT_DIR/SIZExSIZE/ptq-studio.png

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QSaveFile>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtGui/QPainter>
#include <QtSvg/QSvgRenderer>

#include <cstdio>

int main(int argc, char** argv) {
    // Runs during the build, often without a display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    const QStringList args = QGuiApplication::arguments();
    if (args.size() < 4) {
        std::fprintf(stderr, "Usage: ptq-render-icons LOGO.svg OUT_DIR SIZE...\n");
        return 2;
    }
    QSvgRenderer renderer(args.at(1));
    if (!renderer.isValid()) {
        std::fprintf(stderr, "ptq-render-icons: %s is not a valid SVG file.\n", qUtf8Printable(args.at(1)));
        return 2;
    }
    const QString name = QFileInfo(args.at(1)).completeBaseName() + QStringLiteral(".png");
    for (int i = 3; i < args.size(); ++i) {
        bool ok = false;
        const int size = args.at(i).toInt(&ok);
        if (!ok || size < 8 || size > 1024) {
            std::fprintf(stderr, "ptq-render-icons: size '%s' is not a pixel count in 8..1024.\n",
                         qUtf8Printable(args.at(i)));
            return 2;
        }
        QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
        image.fill(Qt::transparent);
        {
            QPainter painter(&image);
            painter.setRenderHint(QPainter::Antialiasing);
            renderer.render(&painter, QRectF(0, 0, size, size));
        }
        const QString dir = QStringLiteral("%1/%2x%2").arg(args.at(2)).arg(size);
        QSaveFile file(QDir(dir).filePath(name));
        if (!QDir().mkpath(dir) || !file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") ||
            !file.commit()) {
            std::fprintf(stderr, "ptq-render-icons: cannot write %s: %s.\n", qUtf8Printable(file.fileName()),
                         qUtf8Printable(file.errorString()));
            return 1;
        }
    }
    return 0;
}
