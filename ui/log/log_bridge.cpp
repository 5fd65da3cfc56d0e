#include "ui/log/log_bridge.h"

#include "core/util/log.h"

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>

#include <mutex>

namespace ptq::ui {

/// base_sink's mutex serialises formatting; the signal is emitted on the logging thread and
/// queued to the receivers' thread by Qt.
class QtLogSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit QtLogSink(LogBridge* bridge) : bridge_(bridge) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        QString line = QString::fromUtf8(formatted.data(), qsizetype(formatted.size()));
        while (line.endsWith(QLatin1Char('\n')) || line.endsWith(QLatin1Char('\r'))) line.chop(1);
        Q_EMIT bridge_->lineLogged(line, int(msg.level));
    }
    void flush_() override {}

private:
    LogBridge* bridge_;
};

LogBridge* LogBridge::instance() {
    // Never deleted: the logger (a function-local static in core) keeps the sink, and the sink
    // may be called until the very end of the process.
    static LogBridge* bridge = [] {
        auto* b = new LogBridge;
        auto sink = std::make_shared<QtLogSink>(b);
        sink->set_pattern("%H:%M:%S.%e  %-5l  %v");
        sink->set_level(spdlog::level::debug);
        ptq::addLogSink(sink);
        return b;
    }();
    return bridge;
}

}  // namespace ptq::ui
