#pragma once
/// @file
/// The application logger: one spdlog logger named "ptq" shared by core, ui and app.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace ptq {

/// The shared logger; created on first use with a stderr sink at "warn" (quiet command line).
std::shared_ptr<spdlog::logger> logger();

/// Adds a sink to the shared logger (the GUI's log dock, a log file). Thread-safe.
void addLogSink(std::shared_ptr<spdlog::sinks::sink> sink);

/// Sets the level of the stderr sink (the GUI turns it off: its log has a dock and a file).
void setConsoleLogLevel(spdlog::level::level_enum level);

/// Adds a file sink at @p path (directories are created). Returns false and logs a warning when
/// the file cannot be opened: a log file is never a reason to stop.
bool addLogFile(const std::string& path);

/// What a user reads for a failure: a ptq::Error's sentence as it is; for anything else (a
/// LibTorch check, a std::bad_alloc) a sentence saying an internal computation failed, with the
/// library's own text written to the log at debug level only (the log file, never the console).
/// Any thread.
std::string userMessage(const std::exception& e);

}  // namespace ptq
