// libFuzzer target: the sensitivity table reader (core/alloc/sensitivity_table.*) and the
// allocation problem built from what it accepts (what `ptq allocate --table` does next).
#include "fuzz_common.h"

#include "core/alloc/problem.h"
#include "core/alloc/sensitivity_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ptqfuzz::writeInput(data, size, ".json");
    ptqfuzz::expectOnlyInvalidInput([&] {
        const ptq::SensitivityTable table = ptq::readSensitivityTable(path);
        ptq::problemFromTable(table, ptq::DegradationMeasure::DeltaLoss);
        ptq::problemFromTable(table, ptq::DegradationMeasure::DeltaTop1);
    });
    return 0;
}
