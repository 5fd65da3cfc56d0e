// ptq distill: ZeroQ distilled data from a model's BatchNorm statistics, saved for tensor-file
// data sources (distilled:FILE.pt), with an optional picture of the images.
#include "cli/commands.h"

#include "cli/common.h"
#include "cli/terminal_progress.h"
#include "core/data/dataset.h"
#include "core/graph/torchscript_importer.h"
#include "core/methods/distill.h"
#include "core/model/model_card.h"
#include "core/util/error.h"

#include <QtCore/QSaveFile>
#include <QtGui/QImage>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ptq::cli {

namespace {

/// The images side by side in a near-square grid, back in pixel space (the model card's
/// normalization undone), each pixel drawn 3x3 so 28x28 images are visible.
QImage imageGrid(const DistillResult& r, const Normalization& normalization) {
    const int64_t n = r.shape[0], c = r.shape[1], h = r.shape[2], w = r.shape[3];
    const Normalization norm = normalization.resolvedFor(c);
    const int cols = int(std::ceil(std::sqrt(double(n))));
    const int rows = int((n + cols - 1) / cols);
    const int zoom = 3, gap = 4;
    QImage img(cols * (int(w) * zoom + gap) + gap, rows * (int(h) * zoom + gap) + gap, QImage::Format_RGB32);
    img.fill(qRgb(64, 64, 64));
    for (int64_t i = 0; i < n; ++i) {
        const int x0 = gap + int(i % cols) * (int(w) * zoom + gap), y0 = gap + int(i / cols) * (int(h) * zoom + gap);
        for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < w; ++x) {
                int rgb[3];
                for (int k = 0; k < 3; ++k) {
                    const int64_t ch = c == 3 ? k : 0;
                    const float v = r.images[size_t(((i * c + ch) * h + y) * w + x)] * norm.std[size_t(ch)] +
                                    norm.mean[size_t(ch)];
                    rgb[k] = std::clamp(int(std::lround(v * 255.0f)), 0, 255);
                }
                for (int dy = 0; dy < zoom; ++dy)
                    for (int dx = 0; dx < zoom; ++dx)
                        img.setPixel(x0 + int(x) * zoom + dx, y0 + int(y) * zoom + dy, qRgb(rgb[0], rgb[1], rgb[2]));
            }
    }
    return img;
}

}  // namespace

int runDistill(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"}, withModelCard({"count", "iters", "lr", "seed", "out", "png", "label-weight"}), "distill");
    TerminalProgress progress(a.flag("json"));
    const std::string path = modelArg(a, "distill");
    const std::string out = a.value("out");
    if (out.empty())
        throw invalidInput("'ptq distill' needs --out FILE.pt, where the distilled images go (read them back as "
                           "distilled:FILE.pt).");
    DistillOptions o;
    o.count = a.integer("count", o.count);
    o.iterations = int(a.integer("iters", o.iterations));
    o.lr = a.number("lr", o.lr);
    o.seed = uint64_t(a.integer("seed", 0));
    o.labelWeight = a.number("label-weight", o.labelWeight);
    o.validate();
    const std::string png = a.value("png");
    if (!png.empty() && !(png.size() > 4 && png.compare(png.size() - 4, 4, ".png") == 0))
        throw invalidInput("--png takes a file name ending in .png; got " + png + ".");
    const auto model = openModel(modelRequestArg(a, "distill"), progress.get());
    const DistillResult r = distillData(model->unfoldedGraph(), model->inputShape(), o, progress.get());
    progress.finish();
    saveDistilled(out, r, path);
    progress.wrote(out);
    if (!png.empty()) {
        QSaveFile file(QString::fromStdString(png));
        if (!file.open(QIODevice::WriteOnly) || !imageGrid(r, model->normalization()).save(&file, "PNG") ||
            !file.commit())
            throw failed("Could not write " + png + "; check that its folder exists and is writable.");
    }
    if (a.flag("json")) {
        QJsonObject j;
        j["model"] = QString::fromStdString(path);
        j["out"] = QString::fromStdString(out);
        j["count"] = qint64(o.count);
        j["iterations"] = o.iterations;
        j["batch_norms"] = r.batchNorms;
        j["seconds"] = r.seconds;
        j["first_loss"] = r.loss.front();
        j["final_loss"] = r.finalLoss();
        j["shape"] = jsonInts(r.shape);
        printJson(j);
        return 0;
    }
    std::printf("%s: distilled %lld images of %s over %d BatchNorms in %d steps, %.1f s; loss %.4g -> %.4g\n",
                path.c_str(), (long long)o.count, shapeText({r.shape.begin() + 1, r.shape.end()}).c_str(),
                r.batchNorms, o.iterations, r.seconds, r.loss.front(), r.finalLoss());
    std::printf("  wrote %s (use it as distilled:%s)%s%s\n", out.c_str(), out.c_str(), png.empty() ? "" : "; picture ",
                png.c_str());
    return 0;
}

}  // namespace ptq::cli
