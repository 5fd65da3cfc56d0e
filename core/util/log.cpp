#include "core/util/log.h"

#include "core/util/error.h"

#include <new>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <filesystem>
#include <mutex>

namespace ptq {

namespace {
std::mutex& sinkMutex() {
    static std::mutex m;
    return m;
}
std::shared_ptr<spdlog::sinks::sink>& consoleSink() {
    static std::shared_ptr<spdlog::sinks::sink> sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    return sink;
}
}  // namespace

std::shared_ptr<spdlog::logger> logger() {
    static std::shared_ptr<spdlog::logger> instance = [] {
        auto stderrSink = consoleSink();
        stderrSink->set_level(spdlog::level::warn);
        auto l = std::make_shared<spdlog::logger>("ptq", stderrSink);
        l->set_level(spdlog::level::debug);
        l->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
        return l;
    }();
    return instance;
}

void setConsoleLogLevel(spdlog::level::level_enum level) { consoleSink()->set_level(level); }

void addLogSink(std::shared_ptr<spdlog::sinks::sink> sink) {
    std::lock_guard<std::mutex> lock(sinkMutex());
    // spdlog's logger::sinks() is not synchronised with logging; add sinks at start-up.
    logger()->sinks().push_back(std::move(sink));
}

bool addLogFile(const std::string& path) {
    try {
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
        sink->set_level(spdlog::level::debug);
        addLogSink(sink);
        return true;
    } catch (const std::exception& e) {
        logger()->warn("Cannot write the log file {}: {}", path, e.what());
        return false;
    }
}

std::string userMessage(const std::exception& e) {
    if (dynamic_cast<const Error*>(&e)) return e.what();
    logger()->debug("internal failure: {}", e.what());
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return "The computation ran out of memory: close other programs, or use fewer images or a smaller batch.";
    return "A computation inside LibTorch failed on this model, which is a bug in PTQ Studio rather than in your "
           "input; nothing was written. Its message is in the debug log for a bug report (the GUI's log file; "
           "for ptq, run again with PTQ_LOG_FILE=FILE).";
}

}  // namespace ptq
