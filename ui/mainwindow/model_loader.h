#pragma once
/// @file
/// Imports and summarises model files off the UI thread. Lives on the UI thread; the core call
/// runs on a private one-thread pool, so loads never overlap and the newest request wins.

#include "core/model/model_summary.h"

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QThreadPool>

namespace ptq::ui {

class ModelLoader : public QObject {
    Q_OBJECT
public:
    explicit ModelLoader(QObject* parent = nullptr);
    /// Waits for an import still running (the core call cannot be interrupted).
    ~ModelLoader() override;

    /// Starts importing @p path. A result of an older request that arrives later is dropped.
    void load(const QString& path);
    bool isBusy() const { return pending_ > 0; }

Q_SIGNALS:
    void started(const QString& path);
    void loaded(const ptq::ModelSummary& summary, qint64 elapsedMs);
    /// @p message is the core's sentence; @p invalidInput tells a bad file (exit 2) from a
    /// failure while running (exit 1).
    void failed(const QString& path, const QString& message, bool invalidInput);

private:
    QThreadPool pool_;
    int generation_ = 0;
    int pending_ = 0;
};

}  // namespace ptq::ui
