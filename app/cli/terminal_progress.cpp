#include "cli/terminal_progress.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <vector>

namespace ptq::cli {

namespace {

// Touched from the signal handler: lock-free atomics only.
std::atomic<Progress*> activeProgress{nullptr};
std::atomic<int> interrupts{0};
static_assert(std::atomic<Progress*>::is_always_lock_free && std::atomic<bool>::is_always_lock_free &&
                  std::atomic<int>::is_always_lock_free,
              "the Ctrl-C handler needs lock-free atomics");

extern "C" void onInterrupt(int) {
    Progress* p = activeProgress.load();
    if (interrupts.fetch_add(1) == 0 && p) {
        p->cancelRequested.store(true);
        return;
    }
    // A second Ctrl-C, or one with nothing to cancel: stop now. Files are written atomically, so
    // none is left half-written.
    static const char message[] = "\nptq: stopped at once.\n";
    if (::write(STDERR_FILENO, message, sizeof message - 1) < 0) {}
    ::_exit(130);
}

std::vector<std::string>& writtenFiles() {
    static std::vector<std::string> files;
    return files;
}

std::string clock(double seconds) {
    const long s = std::lround(std::max(0.0, seconds));
    char buf[32];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

size_t terminalColumns() {
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
    return 80;
}

}  // namespace

TerminalProgress::TerminalProgress(bool quiet)
    : drawing_(!quiet && ::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {
    if (drawing_) progress_.onProgress = [this](double f, const std::string& stage) { draw(f, stage); };
    activeProgress.store(&progress_);
    // Kept after this object is gone: a Ctrl-C while the command winds up then exits with 130 too.
    struct sigaction sa {};
    sa.sa_handler = onInterrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

TerminalProgress::~TerminalProgress() {
    activeProgress.store(nullptr);
    const std::lock_guard<std::mutex> lock(drawMutex_);
    clearLine();
}

void TerminalProgress::finish() {
    {
        const std::lock_guard<std::mutex> lock(drawMutex_);
        clearLine();
    }
    progress_.throwIfCancelled();
}

void TerminalProgress::wrote(const std::string& path) { writtenFiles().push_back(path); }

void TerminalProgress::draw(double fraction, const std::string& stage) {
    // Reports can come per batch and, in principle, from worker threads: a busy lock skips a frame.
    const std::unique_lock<std::mutex> lock(drawMutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    const auto now = std::chrono::steady_clock::now();
    if (std::isfinite(fraction)) shown_ = std::max(shown_, std::clamp(fraction, 0.0, 1.0));
    if (lineLength_ && now - lastDraw_ < std::chrono::milliseconds(100)) return;
    lastDraw_ = now;

    const double elapsed = std::chrono::duration<double>(now - start_).count();
    // Too early, the rate says nothing yet.
    const bool knowsEta = shown_ >= 0.01 && elapsed >= 1.0;
    const std::string eta = knowsEta ? clock(elapsed * (1.0 - shown_) / shown_) : "--:--";
    char tail[96];
    std::snprintf(tail, sizeof tail, " %3d%%  %s elapsed, ETA %-7s", int(shown_ * 100.0), clock(elapsed).c_str(),
                  eta.c_str());

    // One line that never wraps, with room left for the terminal's "^C" echo; the label gives way
    // first, and has a fixed width so that the bar does not jump between stages.
    const size_t width = terminalColumns() - 3;
    // The tail keeps one width while times stay under ten minutes, so the bar does not shift.
    const size_t tailLength = std::string(tail).size();
    const size_t minBar = 16;
    size_t labelRoom = width > tailLength + minBar + 3 ? width - tailLength - minBar - 3 : 0;
    labelRoom = std::min<size_t>(labelRoom, 32);
    std::string label = stage.substr(0, labelRoom);
    label.resize(labelRoom, ' ');
    const size_t used = label.size() + 3 + tailLength;
    const size_t barWidth = width > used ? std::max<size_t>(width - used, 1) : 1;
    const size_t filled = size_t(std::floor(shown_ * double(barWidth)));
    std::string line =
        "\r" + label + " [" + std::string(filled, '#') + std::string(barWidth - filled, '.') + "]" + tail;
    const size_t length = line.size() - 1;
    if (length < lineLength_) line += std::string(lineLength_ - length, ' ');
    lineLength_ = length;
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

void TerminalProgress::clearLine() {
    if (!lineLength_) return;
    // Two more blanks for a "^C" the terminal may have echoed after the bar.
    const std::string blank = "\r" + std::string(lineLength_ + 2, ' ') + "\r";
    std::fwrite(blank.data(), 1, blank.size(), stderr);
    std::fflush(stderr);
    lineLength_ = 0;
}

std::string cancelledMessage() {
    const std::vector<std::string>& files = writtenFiles();
    if (files.empty()) return "cancelled; no output was written.";
    std::string list;
    for (size_t i = 0; i < files.size(); ++i) list += (i ? ", " : "") + files[i];
    return "cancelled; kept " + list + " (written before the cancel), wrote nothing else.";
}

}  // namespace ptq::cli
