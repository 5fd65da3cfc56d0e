#include "core/util/runtime.h"

#include <ATen/Parallel.h>

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>

#include <thread>

namespace ptq {

void initRuntime(int threads) {
    // Activations of a batch are tens of MB each. With glibc's defaults every one is a fresh
    // mmap (or brk growth) that is returned on free, so each batch pays page faults for all its
    // memory again: a third of an evaluation's time went to the kernel. Keep freed memory in the
    // process instead; it is reused by the next batch of the same shapes.
    mallopt(M_MMAP_THRESHOLD, 512 * 1024 * 1024);
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
