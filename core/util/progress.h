#pragma once
/// @file
/// The progress/cancel object every long core call takes. The caller owns it; the core
/// reports through the callback from the thread that runs the work, and polls the flag.

#include "core/util/error.h"

#include <atomic>
#include <functional>
#include <string>

namespace ptq {

struct Progress {
    /// Called from the working thread with a fraction in [0, 1] and a short stage label.
    /// May be empty. Must be cheap or rate-limit itself: it can be called per batch.
    std::function<void(double fraction, const std::string& stage)> onProgress;
    /// Set from any thread to ask the work to stop; the work throws ptq::Cancelled soon after.
    std::atomic<bool> cancelRequested{false};
    /// The run this object is one step of (ScaledProgress): a cancel of the run is this step's.
    const Progress* parent = nullptr;

    void report(double fraction, const std::string& stage) const {
        if (onProgress) onProgress(fraction, stage);
    }
    bool isCancelled() const {
        for (const Progress* p = this; p; p = p->parent)
            if (p->cancelRequested.load(std::memory_order_relaxed)) return true;
        return false;
    }
    /// Throws ptq::Cancelled when a cancel was requested.
    void throwIfCancelled() const {
        if (isCancelled()) throw Cancelled();
    }
};

/// A step's own 0..1 progress mapped into [from, to] of a larger run. Cancel stays the outer
/// object's: every report checks it, so a cancel from another thread stops the step too.
class ScaledProgress {
public:
    ScaledProgress(const Progress* outer, double from, double to, std::string stage = {}) : outer_(outer) {
        if (!outer) return;
        inner_.parent = outer;  // the step's own polls (throwIfCancelled) see the run's cancel
        inner_.onProgress = [outer, from, to, stage](double f, const std::string& own) {
            outer->throwIfCancelled();
            outer->report(from + (to - from) * f, stage.empty() ? own : stage);
        };
    }
    /// The object to hand to the step; nullptr when there is no outer progress.
    const Progress* get() const { return outer_ ? &inner_ : nullptr; }

private:
    const Progress* outer_;
    Progress inner_;
};

/// Reports and checks a possibly null Progress; lets callers pass nullptr for "don't care".
inline void reportProgress(const Progress* p, double fraction, const std::string& stage) {
    if (p) {
        p->throwIfCancelled();
        p->report(fraction, stage);
    }
}

}  // namespace ptq
