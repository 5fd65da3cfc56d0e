#pragma once
/// @file
/// Carries the shared logger's lines (ptq::logger(), written from any thread) to widgets on
/// the UI thread: an spdlog sink that emits each formatted line as a Qt signal. Receivers
/// connect with Qt::QueuedConnection, so the widget is only touched on its own thread.

#include <QtCore/QObject>
#include <QtCore/QString>

namespace ptq::ui {

class LogBridge : public QObject {
    Q_OBJECT
public:
    /// The process-wide bridge. The first call (UI thread, at start-up, before worker threads
    /// log) registers its sink with ptq::logger(); later calls return the same object.
    static LogBridge* instance();

Q_SIGNALS:
    /// One formatted line without its trailing newline; @p level is spdlog's level as int.
    /// Emitted from the logging thread.
    void lineLogged(const QString& line, int level);

private:
    LogBridge() = default;
    friend class QtLogSink;
};

}  // namespace ptq::ui
