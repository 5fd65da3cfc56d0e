// Helper of test_project_crash: saves a large project (a 120-layer table and AdaQuant results of
// ~6 M floats, ~30 MB of JSON) to one path again and again, printing "saving N" before and
// "saved N" after each save, until it is killed. Iteration N is told apart by the project's
// evaluation source, "fmnist:test:N". Usage: project_save_loop PROJECT MODEL FIRST
#include "project_sample.h"

#include "core/util/error.h"

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: project_save_loop PROJECT MODEL FIRST\n");
        return 2;
    }
    try {
        std::vector<ptqtest::SampleLayer> layers;
        for (int i = 0; i < 120; ++i)
            layers.push_back({"block" + std::to_string(i) + ".conv", "conv2d", {128, 128, 3, 3}, 128 * 128 * 9 * 64});
        ptq::Project project = ptqtest::sampleProject(layers, argv[2], 3, 20);
        for (long n = std::atol(argv[3]);; ++n) {
            // N + 1: a valid source name (a sample count of at least 1) that carries the iteration.
            project.evaluationSource = "fmnist:test:" + std::to_string(n + 1);
            std::printf("saving %ld\n", n);
            std::fflush(stdout);
            ptq::writeProject(argv[1], project);
            std::printf("saved %ld\n", n);
            std::fflush(stdout);
        }
    } catch (const ptq::Error& e) {
        std::fprintf(stderr, "project_save_loop: %s\n", e.what());
        return 1;
    }
}
