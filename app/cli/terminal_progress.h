#pragma once
// The progress/cancel object of one long `ptq` command: a bar with an ETA on stderr when it is a
// terminal, and Ctrl-C (SIGINT, SIGTERM) turned into a cancel request the core honours.

#include "core/util/progress.h"

#include <chrono>
#include <mutex>
#include <string>

namespace ptq::cli {

/// Owns the ptq::Progress a command hands to its core calls. While it lives, SIGINT and SIGTERM
/// set the progress's cancelRequested (the core then throws ptq::Cancelled); a second one, or one
/// after it is gone, exits at once with 130. The bar is drawn only when stderr is a terminal and the command is not quiet
/// (--json); otherwise nothing is drawn at all. Construct it on the command's thread, once.
class TerminalProgress {
public:
    /// @p quiet: draw nothing (the command was given --json).
    explicit TerminalProgress(bool quiet);
    ~TerminalProgress();
    TerminalProgress(const TerminalProgress&) = delete;
    TerminalProgress& operator=(const TerminalProgress&) = delete;

    /// The object to pass to core calls.
    Progress* get() { return &progress_; }
    /// Clears the bar, so that what the command prints next starts on a clean line. Throws
    /// ptq::Cancelled when Ctrl-C came after the last core check: the command then writes nothing.
    void finish();
    /// Records that the command wrote @p path, so that a cancel after it says the file was kept.
    void wrote(const std::string& path);

private:
    void draw(double fraction, const std::string& stage);
    void clearLine();

    Progress progress_;
    bool drawing_ = false;
    std::mutex drawMutex_;
    std::chrono::steady_clock::time_point start_, lastDraw_;
    double shown_ = 0.0;  // the largest fraction reported: the bar never runs backwards
    size_t lineLength_ = 0;
};

/// The one sentence main() prints when a command was cancelled: what was kept, if anything.
std::string cancelledMessage();

}  // namespace ptq::cli
