#pragma once
/// @file
/// The Log dock: every line of the shared logger, newest last, capped in length.

#include <QtWidgets/QWidget>

class QPlainTextEdit;

namespace ptq::ui {

class LogPanel : public QWidget {
    Q_OBJECT
public:
    /// Lines kept; older ones scroll away (the log file keeps everything).
    static constexpr int kMaxLines = 5000;

    explicit LogPanel(QWidget* parent = nullptr);

    /// The whole visible text, for tests.
    QString text() const;

public Q_SLOTS:
    void appendLine(const QString& line, int level);

private:
    QPlainTextEdit* view_;
};

}  // namespace ptq::ui
