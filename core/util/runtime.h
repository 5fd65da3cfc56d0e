#pragma once
/// @file
/// Process-wide set-up of the compute runtime. Call once from main() before any work.

namespace ptq {

/// Sets LibTorch's intra-op thread count to the machine's cores (LibTorch starts with one
/// here) and seeds its generator. Safe to call more than once; main thread only.
void initRuntime(int threads = 0);

/// Threads LibTorch uses for one op.
int runtimeThreads();

}  // namespace ptq
