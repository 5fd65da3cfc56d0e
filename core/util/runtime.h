#pragma once
/// @file
/// Process-wide set-up of the compute runtime. Call once from main() before any work.

namespace ptq {

/// Sets LibTorch's intra-op thread count to the machine's cores (LibTorch starts with one
/// here) and seeds its generator. Safe to call more than once; main thread only.
void initRuntime(int threads = 0);

/// Threads LibTorch uses for one op.
int runtimeThreads();

/// Makes OpenMP's idle threads sleep instead of spinning: a background job's compute threads
/// leave the UI thread a core between their many small ops, and on a machine that other work
/// shares, spinning threads take the cores that the working ones wait for (ptq ran 2.7 to 3.0
/// times slower with them there: tools/results/openmp_wait.py).
/// OpenMP reads OMP_WAIT_POLICY once, when it loads (before main), so when the variable is not
/// set this sets it and executes the program again with the same arguments; it returns only
/// when the variable was already set or the new start failed. Call first thing in main().
void preferPassiveOpenMpWait(char** argv);

}  // namespace ptq
