// Linked into fuzz_importer only. A damaged TorchScript archive can make LibTorch's unpickler
// ask for a buffer of the length a corrupt record claims (tens of GB). Outside the sanitizer that
// request throws std::bad_alloc, which the importer turns into "could not be loaded as
// TorchScript"; ASan's own operator new reports out-of-memory and aborts instead, even with
// allocator_may_return_null=1, so the fuzzer would stop on behaviour the real program does not
// have. These replacements keep the real program's contract: the allocation goes through malloc
// (ASan still tracks, poisons and checks it), and a null answer (tools/run-fuzz.sh caps one
// allocation with max_allocation_size_mb) throws std::bad_alloc.
#include <cstdlib>
#include <new>

namespace {
void* allocateOrThrow(std::size_t size) {
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return allocateOrThrow(size); }
void* operator new[](std::size_t size) { return allocateOrThrow(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size ? size : 1); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size ? size : 1); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
