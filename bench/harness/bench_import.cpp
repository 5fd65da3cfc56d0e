#include "bench/harness/bench_import.h"

#include "core/graph/graph.h"
#include "core/graph/import_process.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>

namespace ptq {

namespace {
double medianOf(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

template <typename F>
double millisecondsOf(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

ImportBenchResult benchImport(const std::string& path, const std::vector<int64_t>& sampleShape, int runs) {
    ImportBenchResult r;
    r.helper = importHelperPath();
    if (r.helper.empty())
        throw failed("No import helper (ptq-import) was found, so there is nothing to compare the in-process import "
                     "with: build the target ptq-import or name it with PTQ_IMPORT_HELPER.");
    r.runs = runs;
    r.inputShape = sampleShape;
    {
        const Graph g = importModelFile(path, sampleShape);  // warm-up: page cache, LibTorch's first load
        r.nodes = g.nodes().size();
        r.inputShape = g.sampleShape(g.inputValue());
        r.parameters = g.parameterCount();
        (void)importTorchScriptIsolated(path, sampleShape);
    }
    std::vector<double> here, child;
    for (int i = 0; i < runs; ++i) {
        here.push_back(millisecondsOf([&] { (void)importModelFile(path, sampleShape); }));
        child.push_back(millisecondsOf([&] { (void)importTorchScriptIsolated(path, sampleShape); }));
    }
    r.inProcessMedianMs = medianOf(here);
    r.helperMedianMs = medianOf(child);
    r.inProcessMinMs = *std::min_element(here.begin(), here.end());
    r.helperMinMs = *std::min_element(child.begin(), child.end());
    return r;
}

}  // namespace ptq
