#pragma once
// Shared by the libFuzzer targets: the readers under test take a path, so each input is written
// to one scratch file per process first. A ptq::Error is the readers' documented answer to a bad
// file and ends the run quietly; anything else (a crash, a sanitizer report, another exception
// escaping) is a finding.

#include "core/util/error.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace ptqfuzz {

/// Writes @p data to a scratch file named with @p suffix (the readers look at content, not
/// names, but .gz/.pt keep the files recognisable when a finding is reproduced by hand).
inline std::string writeInput(const uint8_t* data, size_t size, const char* suffix) {
    static const std::string dir = [] {
        const char* tmp = std::getenv("TMPDIR");
        return std::string(tmp && *tmp ? tmp : "/tmp");
    }();
    const std::string path = dir + "/ptq-fuzz-" + std::to_string(getpid()) + suffix;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
    return path;
}

/// Runs @p read; a ptq::Error of kind InvalidInput is the expected answer to a bad file.
template <class F>
void expectOnlyInvalidInput(F&& read) {
    try {
        read();
    } catch (const ptq::Error& e) {
        // Failed or Cancelled for a file that is merely bad would be a wrong exit code (1 for 2).
        if (e.kind() != ptq::Error::Kind::InvalidInput) {
            std::fprintf(stderr, "reader threw a non-InvalidInput ptq::Error: %s\n", e.what());
            std::abort();
        }
    }
}

}  // namespace ptqfuzz
