// libFuzzer target: the IDX reader (core/data/idx.*) on arbitrary bytes, plain or gzipped (the
// reader decides by content), whole and limited to a few items, as images and as labels.
#include "fuzz_common.h"

#include "core/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ptqfuzz::writeInput(data, size, ".idx");
    ptqfuzz::expectOnlyInvalidInput([&] { ptq::readIdxFile(path); });
    ptqfuzz::expectOnlyInvalidInput([&] { ptq::readIdxFile(path, 3); });
    // As both the images and the labels of a dataset: the count checks between the two.
    ptqfuzz::expectOnlyInvalidInput([&] { ptq::loadIdxDataset(path, path); });
    return 0;
}
