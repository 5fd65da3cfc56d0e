#pragma once

#include <cstddef>

namespace ptq {

/// Makes LibTorch's CPU tensors reuse freed memory blocks of a megabyte or more instead of
/// returning them to the system. glibc maps every block above 32 MB afresh and unmaps it on free,
/// so each batch of an ImageNet-size model paid a page fault (and the kernel's zeroing) for every
/// page of every activation again. A freed block waits for a request of its size (up to a
/// quarter larger). At most @p maxCachedBytes wait (0: an eighth of the physical memory, at least
/// 1 GiB; PTQ_BLOCK_CACHE_MB sets it, PTQ_NO_BLOCK_CACHE=1 leaves LibTorch's own allocator);
/// a block that does not fit goes back to the system. The process's memory so grows by up to
/// that much over its live tensors (ResNet-50's table at 224: 1.8 GB -> 3.2 GB) until
/// releaseCpuBlockCache(). Idempotent; tensors made before it keep their own deleter.
void installCpuBlockCache(size_t maxCachedBytes = 0);

/// Bytes waiting in the cache now, and the requests it answered and did not (large blocks only).
struct CpuBlockCacheStats {
    size_t cachedBytes = 0;
    size_t hits = 0;
    size_t misses = 0;
};
CpuBlockCacheStats cpuBlockCacheStats();

/// Returns every cached block to the system (for example when a long job has ended).
void releaseCpuBlockCache();

}  // namespace ptq
