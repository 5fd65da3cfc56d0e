#include "ui/panels/log_panel.h"

#include "ui/log/log_bridge.h"

#include <spdlog/common.h>

#include <QtGui/QColor>
#include <QtGui/QFontDatabase>
#include <QtGui/QTextCharFormat>
#include <QtGui/QTextCursor>
#include <QtGui/QTextDocument>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QScrollBar>
#include <QtWidgets/QVBoxLayout>

namespace ptq::ui {

LogPanel::LogPanel(QWidget* parent) : QWidget(parent), view_(new QPlainTextEdit(this)) {
    view_->setObjectName(QStringLiteral("logView"));
    view_->setReadOnly(true);
    view_->setMaximumBlockCount(kMaxLines);
    view_->setLineWrapMode(QPlainTextEdit::NoWrap);
    view_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    view_->setPlaceholderText(tr("Messages of the application appear here."));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(view_);

    // Queued: the bridge emits on whichever thread logged.
    connect(LogBridge::instance(), &LogBridge::lineLogged, this, &LogPanel::appendLine,
            Qt::QueuedConnection);
}

QString LogPanel::text() const { return view_->toPlainText(); }

void LogPanel::appendLine(const QString& line, int level) {
    QScrollBar* bar = view_->verticalScrollBar();
    const bool atBottom = bar->value() >= bar->maximum() - 2;
    QTextCharFormat format;
    if (level >= spdlog::level::err) format.setForeground(QColor(0xb0, 0x00, 0x20));
    else if (level == spdlog::level::warn) format.setForeground(QColor(0x9a, 0x67, 0x00));
    QTextCursor cursor(view_->document());
    cursor.movePosition(QTextCursor::End);
    if (!view_->document()->isEmpty()) cursor.insertBlock();
    cursor.insertText(line, format);
    // Follow the tail unless the user scrolled up to read something.
    if (atBottom) bar->setValue(bar->maximum());
}

}  // namespace ptq::ui
