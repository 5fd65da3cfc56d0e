// The CPU block cache LibTorch's tensors allocate from (core/util/cpu_block_cache.h).
#include "core/util/cpu_block_cache.h"

#include <ATen/ATen.h>

#include <QtTest/QtTest>

#include <cstdint>

using namespace ptq;

namespace {
constexpr int64_t kMB = 1 << 20;
at::Tensor bytes(int64_t n) { return at::empty({n / 4}, at::kFloat); }
}  // namespace

class TestBlockCache : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        qunsetenv("PTQ_NO_BLOCK_CACHE");
        qunsetenv("PTQ_BLOCK_CACHE_MB");
        installCpuBlockCache(size_t(64 * kMB));
        installCpuBlockCache(size_t(8 * kMB));  // idempotent: the first cap stays
    }
    void init() { releaseCpuBlockCache(); }

    void freedBlockIsReusedForTheSameSize() {
        void* first = nullptr;
        {
            at::Tensor t = bytes(4 * kMB);
            first = t.data_ptr();
            QCOMPARE(reinterpret_cast<uintptr_t>(first) % 64, uintptr_t(0));
        }
        const CpuBlockCacheStats before = cpuBlockCacheStats();
        QVERIFY(before.cachedBytes >= size_t(4 * kMB));
        at::Tensor again = bytes(4 * kMB);
        QCOMPARE(again.data_ptr(), first);
        const CpuBlockCacheStats after = cpuBlockCacheStats();
        QCOMPARE(after.hits, before.hits + 1);
        QCOMPARE(after.cachedBytes, size_t(0));
        again.fill_(3.0f);  // the memory is the tensor's own
        QCOMPARE(again.sum().item<float>(), 3.0f * float(again.numel()));
    }

    void blockServesRequestsUpToAQuarterSmaller() {
        void* block = nullptr;
        {
            at::Tensor t = bytes(4 * kMB);
            block = t.data_ptr();
        }
        {
            at::Tensor half = bytes(2 * kMB);  // too small for it: a block of its own
            QVERIFY(half.data_ptr() != block);
        }
        releaseCpuBlockCache();
        {
            at::Tensor t = bytes(4 * kMB);
            block = t.data_ptr();
        }
        at::Tensor near = bytes(7 * kMB / 2);
        QCOMPARE(near.data_ptr(), block);
    }

    void blocksOverTheCapGoBack() {
        { at::Tensor big = bytes(100 * kMB); }
        QCOMPARE(cpuBlockCacheStats().cachedBytes, size_t(0));
        { at::Tensor t = bytes(4 * kMB); }
        QVERIFY(cpuBlockCacheStats().cachedBytes > 0);
        releaseCpuBlockCache();
        QCOMPARE(cpuBlockCacheStats().cachedBytes, size_t(0));
    }

    void smallTensorsAreNotCached() {
        { at::Tensor t = bytes(64 * 1024); }
        QCOMPARE(cpuBlockCacheStats().cachedBytes, size_t(0));
        at::Tensor empty = at::empty({0});
        QCOMPARE(empty.numel(), int64_t(0));
    }

    void manyTensorsKeepTheirValues() {
        // Blocks are handed out once at a time: live tensors never share memory.
        std::vector<at::Tensor> live;
        for (int i = 0; i < 8; ++i) {
            for (int k = 0; k < 3; ++k) { at::Tensor scratch = bytes((2 + k) * kMB); }
            live.push_back(at::full({kMB / 2}, float(i)));
        }
        for (int i = 0; i < 8; ++i) QCOMPARE(live[size_t(i)].mean().item<float>(), float(i));
    }
};

QTEST_APPLESS_MAIN(TestBlockCache)
#include "test_block_cache.moc"
