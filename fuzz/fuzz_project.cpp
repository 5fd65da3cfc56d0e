// libFuzzer target: the project reader (core/io/project_file.*). A file it accepts is then turned
// into a session over a small real model, as opening a project in the GUI does, so that the
// layer and option indices it accepted are ones the session can use.
#include "fuzz_common.h"

#include "core/io/project_file.h"
#include "core/session/session.h"
#include "core/util/runtime.h"

namespace {
const std::shared_ptr<const ptq::LoadedModel>& tinyModel() {
    static const std::shared_ptr<const ptq::LoadedModel> model = ptq::openModel({PTQ_FUZZ_MODEL, {1, 28, 28}});
    return model;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    ptq::initRuntime(1);
    tinyModel();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ptqfuzz::writeInput(data, size, ".ptqproj");
    ptqfuzz::expectOnlyInvalidInput([&] {
        const ptq::Project project = ptq::readProject(path);
        ptq::sessionFromProject(project, tinyModel());
    });
    return 0;
}
