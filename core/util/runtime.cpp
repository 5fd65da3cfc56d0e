#include "core/util/runtime.h"

#include <ATen/Parallel.h>

#include <thread>

namespace ptq {

void initRuntime(int threads) {
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

int runtimeThreads() { return at::get_num_threads(); }

}  // namespace ptq
