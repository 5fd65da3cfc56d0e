#include "ui/mainwindow/model_loader.h"

#include "core/util/error.h"
#include "core/util/log.h"

#include <QtConcurrent/QtConcurrentRun>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFutureWatcher>

#include <optional>

namespace ptq::ui {

namespace {
struct LoadResult {
    std::optional<ptq::ModelSummary> summary;
    QString error;
    bool invalidInput = false;
    qint64 elapsedMs = 0;
};

/// Runs on the pool's thread. Every exception becomes a sentence: QtConcurrent would turn a
/// non-QException into an unhelpful QUnhandledException.
LoadResult importModel(const QString& path) {
    LoadResult result;
    QElapsedTimer clock;
    clock.start();
    try {
        result.summary = ptq::summarizeModel(path.toStdString());
    } catch (const ptq::Error& e) {
        result.error = QString::fromStdString(e.what());
        result.invalidInput = e.kind() == ptq::Error::Kind::InvalidInput;
    } catch (const std::exception& e) {
        result.error = QStringLiteral("Could not open %1: %2").arg(path, QString::fromStdString(e.what()));
    }
    result.elapsedMs = clock.elapsed();
    return result;
}
}  // namespace

ModelLoader::ModelLoader(QObject* parent) : QObject(parent) {
    pool_.setMaxThreadCount(1);
    pool_.setObjectName(QStringLiteral("ModelLoaderPool"));
}

ModelLoader::~ModelLoader() { pool_.waitForDone(); }

void ModelLoader::load(const QString& path) {
    const int generation = ++generation_;
    ++pending_;
    ptq::logger()->info("Loading model {}", path.toStdString());
    Q_EMIT started(path);

    auto* watcher = new QFutureWatcher<LoadResult>(this);
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this, [this, watcher, generation, path] {
        watcher->deleteLater();
        --pending_;
        const LoadResult result = watcher->result();
        if (generation != generation_) {
            ptq::logger()->debug("Dropped the result of an older load of {}", path.toStdString());
            return;
        }
        if (result.summary) {
            ptq::logger()->info("Loaded {} in {:.2f} s: {} quantizable layers, {} params, {} MACs",
                                result.summary->name, double(result.elapsedMs) / 1000.0,
                                result.summary->layers.size(), result.summary->totalParams,
                                result.summary->totalMacs);
            Q_EMIT loaded(*result.summary, result.elapsedMs);
        } else {
            ptq::logger()->error("{}", result.error.toStdString());
            Q_EMIT failed(path, result.error, result.invalidInput);
        }
    });
    watcher->setFuture(QtConcurrent::run(&pool_, importModel, path));
}

}  // namespace ptq::ui
