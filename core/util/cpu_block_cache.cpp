#include "core/util/cpu_block_cache.h"

#include "core/util/log.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

namespace ptq {
namespace {

constexpr size_t kAlignment = 64;           // what LibTorch's own CPU allocator gives (AVX-512)
constexpr size_t kHeader = kAlignment;      // the block's size, in front of the data
constexpr size_t kLarge = size_t(1) << 20;  // smaller blocks go to malloc and back at once
constexpr size_t kGranule = size_t(1) << 16;

struct Header {
    size_t bytes;  // the whole block, header included
};

void* systemBlock(size_t bytes) {
    void* p = nullptr;
    if (posix_memalign(&p, kAlignment, bytes) != 0 || !p) throw std::bad_alloc();
    return p;
}

class BlockCache final : public c10::Allocator {
public:
    explicit BlockCache(size_t maxCached) : maxCached_(maxCached) {}

    c10::DataPtr allocate(size_t n) const override {
        if (n == 0) return {nullptr, nullptr, &release, c10::Device(c10::DeviceType::CPU)};
        const bool large = n + kHeader >= kLarge;
        // Large sizes in 64 KB steps, so tensors of nearly the same size share blocks.
        const size_t bytes = large ? (n + kHeader + kGranule - 1) / kGranule * kGranule : n + kHeader;
        void* block = large ? take(bytes) : nullptr;
        if (!block) {
            block = systemBlock(bytes);
            static_cast<Header*>(block)->bytes = bytes;
        }
        void* data = static_cast<char*>(block) + kHeader;
        return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
    }

    c10::DeleterFnPtr raw_deleter() const override { return &release; }

    static void release(void* data) {
        if (!data) return;
        void* block = static_cast<char*>(data) - kHeader;
        const size_t bytes = static_cast<Header*>(block)->bytes;
        if (bytes < kLarge || !instance()->give(block, bytes)) std::free(block);
    }

    static BlockCache* instance() { return instance_; }
    static void setInstance(BlockCache* c) { instance_ = c; }

    CpuBlockCacheStats stats() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return {cached_, hits_, misses_};
    }

    void clear() const {
        std::multimap<size_t, void*> blocks;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            blocks.swap(free_);
            cached_ = 0;
        }
        for (const auto& [bytes, block] : blocks) std::free(block);
    }

private:
    /// A cached block of at least @p bytes and at most a quarter more, or nullptr. A miss keeps
    /// the cache as it is: giving blocks back on a miss (to stay at the peak of live tensors)
    /// made ResNet-50's measured table miss twice as often as it hit, and fault on every page again.
    void* take(size_t bytes) const {
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto it = free_.lower_bound(bytes);
        if (it == free_.end() || it->first > bytes + bytes / 4) {
            ++misses_;
            return nullptr;
        }
        void* found = it->second;
        cached_ -= it->first;
        free_.erase(it);
        ++hits_;
        return found;
    }

    /// Keeps @p block for a later request; false when the cache is full (the caller frees it).
    bool give(void* block, size_t bytes) const {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (cached_ + bytes > maxCached_) return false;
        free_.emplace(bytes, block);
        cached_ += bytes;
        return true;
    }

    const size_t maxCached_;
    mutable std::mutex mutex_;
    mutable std::multimap<size_t, void*> free_;  // by size
    mutable size_t cached_ = 0;
    mutable size_t hits_ = 0;
    mutable size_t misses_ = 0;
    static inline BlockCache* instance_ = nullptr;
};

std::once_flag installed;

}  // namespace

void installCpuBlockCache(size_t maxCachedBytes) {
    std::call_once(installed, [maxCachedBytes] {
        if (std::getenv("PTQ_NO_BLOCK_CACHE")) return;
        size_t cap = maxCachedBytes;
        if (const char* mb = std::getenv("PTQ_BLOCK_CACHE_MB")) {
            char* end = nullptr;
            const unsigned long long value = std::strtoull(mb, &end, 10);
            if (end == mb || *end != '\0')
                logger()->warn("PTQ_BLOCK_CACHE_MB={} is not a number of megabytes; the default is used.", mb);
            else
                cap = size_t(value) << 20;
        }
        if (cap == 0) {
            const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
            const size_t physical = pages > 0 && pageSize > 0 ? size_t(pages) * size_t(pageSize) : 0;
            cap = std::max<size_t>(size_t(1) << 30, physical / 8);
        }
        // Never destroyed: tensors can be freed during static destruction.
        auto* cache = new BlockCache(cap);
        BlockCache::setInstance(cache);
        c10::SetCPUAllocator(cache, /*priority=*/1);
    });
}

CpuBlockCacheStats cpuBlockCacheStats() {
    const BlockCache* cache = BlockCache::instance();
    return cache ? cache->stats() : CpuBlockCacheStats{};
}

void releaseCpuBlockCache() {
    if (const BlockCache* cache = BlockCache::instance()) cache->clear();
}

}  // namespace ptq
