#include "core/util/runtime.h"

#include "core/util/cpu_block_cache.h"

#include <ATen/Parallel.h>

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>

#include <thread>

namespace ptq {

void initRuntime(int threads) {
    // Activations of a batch are tens to hundreds of MB each. glibc maps every block above
    // 32 MB afresh (M_MMAP_THRESHOLD cannot be set higher) and unmaps it on free, so each batch
    // paid page faults for all its memory again. LibTorch's CPU tensors reuse freed blocks
    // instead (core/util/cpu_block_cache.h); smaller ones stay in glibc's heap.
    installCpuBlockCache();
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

int runtimeThreads() { return at::get_num_threads(); }

void preferPassiveOpenMpWait(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY")) return;  // the user's choice, or already done
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
    // Still here: the program runs on with spinning threads, which is only slower to respond.
}

}  // namespace ptq
