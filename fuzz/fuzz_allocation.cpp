// libFuzzer target: the allocation file reader (core/alloc/allocation.*).
#include "fuzz_common.h"

#include "core/alloc/allocation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ptqfuzz::writeInput(data, size, ".json");
    ptqfuzz::expectOnlyInvalidInput([&] { ptq::readAllocation(path); });
    return 0;
}
