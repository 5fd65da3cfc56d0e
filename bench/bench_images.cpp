// ptq-bench-images [--dir DIR] [--images N] [--arch resnet18|resnet50] [--batch B] [--runs R]
//                  [--decode-images M] [--json]
// Image sources at scale. Makes (once) DIR/<class>/NNNNN.jpg: N photo-like 256x256 JPEGs
// (quality 90; smooth gradients, a shape, sensor-like noise) in 10 class folders, and
// DIR/ARCH.pt: torchvision's ARCH with random weights, scripted by Debian's python3-torch. Then:
//  1. evaluation of the whole folder (3x224x224, crop ratio 0.875, ImageNet normalization) in
//     batches of B through the executor, with this process's peak RSS (VmHWM) after opening and
//     at each quarter of the run: memory is bounded by the batch, not by the folder;
//  2. decode + preprocess throughput on the first M images (no model): images per second with a
//     thread per core and with one thread, the median of R runs and each run's ratio.
// Prints figures (and JSON with --json); asserts nothing.
#include "core/data/data_source.h"
#include "core/data/image_dataset.h"
#include "core/data/image_folder.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/runtime.h"
#include "core/workflow/model.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtGui/QImage>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

/// A field of /proc/self/status in MB (VmHWM: peak resident set, VmRSS: now).
double procStatusMb(const char* field) {
    QFile f("/proc/self/status");
    if (!f.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith(field)) return line.mid(int(std::strlen(field)) + 1).trimmed().split(' ').at(0).toDouble() / 1024.0;
    return -1;
}

/// A photo-like 256 x 256 picture: a two-colour gradient, a soft disc or bar, noise.
QImage photo(QRandomGenerator& rng, int label) {
    const int size = 256;
    QImage image(size, size, QImage::Format_RGB888);
    double a[3], b[3], c[3];
    for (int k = 0; k < 3; ++k) a[k] = rng.bounded(256), b[k] = rng.bounded(256), c[k] = rng.bounded(256);
    const double angle = rng.bounded(3.14159), cx = 64 + rng.bounded(128), cy = 64 + rng.bounded(128);
    const double r = 30 + rng.bounded(50) + label * 3;
    for (int y = 0; y < size; ++y) {
        uchar* row = image.scanLine(y);
        for (int x = 0; x < size; ++x) {
            const double t = 0.5 + 0.5 * (std::cos(angle) * (x - 128) + std::sin(angle) * (y - 128)) / 181.0;
            const double d = std::hypot(x - cx, y - cy);
            const double shape = label % 2 ? std::clamp((r - d) / 6.0, 0.0, 1.0)
                                           : (std::abs(x - cx) < r * 0.3 && std::abs(y - cy) < r ? 1.0 : 0.0);
            for (int k = 0; k < 3; ++k) {
                const double v = (a[k] * (1 - t) + b[k] * t) * (1 - 0.8 * shape) + c[k] * 0.8 * shape +
                                 (rng.generateDouble() - 0.5) * 16.0;
                row[3 * x + k] = uchar(std::clamp(v, 0.0, 255.0));
            }
        }
    }
    return image;
}

void makeFolder(const QString& dir, int images) {
    int have = 0;
    for (int i = 0; i < images; ++i)
        if (QFileInfo::exists(QString("%1/class%2/%3.jpg").arg(dir).arg(i % 10).arg(i, 5, 10, QChar('0')))) ++have;
    if (have == images) return;
    std::fprintf(stderr, "making %d JPEGs in %s ...\n", images, qPrintable(dir));
    std::vector<std::thread> pool;
    const int threads = std::max(1u, std::thread::hardware_concurrency());
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([=] {
            QRandomGenerator rng(quint32(1000 + t));
            for (int i = t; i < images; i += threads) {
                const QString folder = QString("%1/class%2").arg(dir).arg(i % 10);
                QDir().mkpath(folder);
                photo(rng, i % 10).save(QString("%1/%2.jpg").arg(folder).arg(i, 5, 10, QChar('0')), "JPEG", 90);
            }
        });
    for (auto& t : pool) t.join();
}

QString makeModel(const QString& dir, const QString& arch) {
    const QString path = dir + "/" + arch + ".pt";
    if (QFileInfo::exists(path)) return path;
    const QString script = QString("import torch, torchvision\ntorch.manual_seed(0)\nm = torchvision.models.%1()\n"
                                   "m.eval()\ntorch.jit.script(m).save('%2')\n").arg(arch, path);
    std::fprintf(stderr, "scripting torchvision's %s with random weights ...\n", qPrintable(arch));
    if (QProcess::execute("/usr/bin/python3", {"-c", script}) != 0 || !QFileInfo::exists(path))
        throw ptq::failed("python3-torch could not script torchvision's " + arch.toStdString() + ".");
    return path;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
}

}  // namespace

int main(int argc, char** argv) {
    QString dir = QDir::tempPath() + "/ptq-bench-images", arch = "resnet18";
    int images = 5000, batch = 32, runs = 3, decodeImages = 1000;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool more = i + 1 < argc;
        if (a == "--dir" && more) dir = argv[++i];
        else if (a == "--images" && more) images = std::max(1, std::atoi(argv[++i]));
        else if (a == "--arch" && more) arch = argv[++i];
        else if (a == "--batch" && more) batch = std::max(1, std::atoi(argv[++i]));
        else if (a == "--runs" && more) runs = std::max(1, std::atoi(argv[++i]));
        else if (a == "--decode-images" && more) decodeImages = std::max(1, std::atoi(argv[++i]));
        else if (a == "--json") json = true;
        else {
            std::fprintf(stderr, "usage: ptq-bench-images [--dir DIR] [--images N] [--arch resnet18|resnet50] "
                                 "[--batch B] [--runs R] [--decode-images M] [--json]\n");
            return 2;
        }
    }
    ptq::initRuntime();
    try {
        QDir().mkpath(dir);
        makeFolder(dir + "/images", images);
        const QString modelPath = makeModel(dir, arch);
        const ptq::Normalization imagenet{{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
        const ptq::ImageTransform transform{0.875};
        const std::string source = "folder:" + (dir + "/images").toStdString();

        // 1. Evaluation of the whole folder, peak RSS along the way.
        const double rssStart = procStatusMb("VmHWM:");
        const auto model = ptq::openModel({modelPath.toStdString(), {3, 224, 224}});
        QElapsedTimer timer;
        timer.start();
        const auto data = ptq::openDataSource(source, imagenet, {3, 224, 224}, transform);
        const double openSeconds = timer.elapsed() / 1000.0;
        const double rssOpened = procStatusMb("VmHWM:");
        const ptq::Executor executor(model->graph());
        std::vector<double> quarterRss;
        int64_t done = 0, agree = 0;
        timer.restart();
        {
            c10::InferenceMode guard;
            ptq::forEachBatch(*data, batch, [&](const ptq::Batch& b) {
                const at::Tensor x = at::from_blob(const_cast<float*>(b.images), b.shape, at::kFloat);
                const at::Tensor pred = executor.run(x).at(0).argmax(1);
                const at::Tensor labels = at::from_blob(const_cast<int64_t*>(b.labels), {b.count}, at::kLong);
                agree += pred.eq(labels).sum().item<int64_t>();
                const int64_t before = done;
                done += b.count;
                for (int q = 1; q <= 4; ++q)
                    if (before < data->size() * q / 4 && done >= data->size() * q / 4) quarterRss.push_back(procStatusMb("VmHWM:"));
            });
        }
        const double evalSeconds = timer.elapsed() / 1000.0;

        // 2. Decode + preprocess throughput, no model.
        ptq::ImageListing listing = ptq::listImageFolder((dir + "/images").toStdString());
        listing.files.resize(size_t(std::min<int64_t>(decodeImages, int64_t(listing.files.size()))));
        const int cores = std::max(1u, std::thread::hardware_concurrency());
        std::vector<double> parallelRate, serialRate, ratios;
        for (int run = 0; run < runs; ++run) {
            double rate[2] = {0, 0};
            for (int k = 0; k < 2; ++k) {
                ptq::ImageSourceOptions options;
                options.sampleShape = {3, 224, 224};
                options.transform = transform;
                options.threads = k == 0 ? cores : 1;
                const ptq::ImageFileDataset set(listing, imagenet, options);
                std::vector<float> buffer(size_t(batch * set.sampleElements()));
                timer.restart();
                for (int64_t first = 0; first < set.size(); first += batch) {
                    const int64_t count = std::min<int64_t>(batch, set.size() - first);
                    set.read(first, count, buffer.data(), nullptr);
                }
                rate[k] = double(set.size()) / (timer.nsecsElapsed() / 1e9);
            }
            parallelRate.push_back(rate[0]);
            serialRate.push_back(rate[1]);
            ratios.push_back(rate[0] / rate[1]);
        }
        const double rssEnd = procStatusMb("VmHWM:");
        const double inMemoryMb = double(data->size()) * 3 * 224 * 224 * 4 / (1024.0 * 1024.0);

        if (json) {
            QJsonObject o;
            o["images"] = qint64(data->size());
            o["arch"] = arch;
            o["batch"] = batch;
            o["open_seconds"] = openSeconds;
            o["eval_seconds"] = evalSeconds;
            o["eval_images_per_second"] = double(done) / evalSeconds;
            o["peak_rss_mb_start"] = rssStart;
            o["peak_rss_mb_opened"] = rssOpened;
            QJsonArray q;
            for (double v : quarterRss) q.append(v);
            o["peak_rss_mb_quarters"] = q;
            o["peak_rss_mb_end"] = rssEnd;
            o["whole_set_in_memory_mb"] = inMemoryMb;
            o["decode_images"] = qint64(listing.files.size());
            o["decode_threads"] = cores;
            o["decode_images_per_second_median"] = median(parallelRate);
            o["decode_images_per_second_one_thread_median"] = median(serialRate);
            QJsonArray r;
            for (double v : ratios) r.append(v);
            o["decode_speedup_per_run"] = r;
            std::printf("%s", QJsonDocument(o).toJson().constData());
            return 0;
        }
        std::printf("folder of %lld 256x256 JPEGs (q90), %s (random weights), 3x224x224, crop 0.875, batch %d\n",
                    (long long)data->size(), qPrintable(arch), batch);
        std::printf("  open (list + check every file): %.2f s\n", openSeconds);
        std::printf("  evaluation: %.1f s, %.1f images/s (top-1 of random weights %.1f %%)\n", evalSeconds,
                    double(done) / evalSeconds, 100.0 * double(agree) / double(std::max<int64_t>(1, done)));
        std::printf("  peak RSS (VmHWM): %.0f MB at start, %.0f MB after model and open, quarters", rssStart, rssOpened);
        for (double v : quarterRss) std::printf(" %.0f", v);
        std::printf(" MB; the whole set as floats would be %.0f MB\n", inMemoryMb);
        std::printf("decode + resize + crop + normalize of %zu images, batch %d, median of %d runs:\n",
                    listing.files.size(), batch, runs);
        std::printf("  %d threads: %.0f images/s; 1 thread: %.0f images/s; speed-up per run:", cores,
                    median(parallelRate), median(serialRate));
        for (double v : ratios) std::printf(" %.2f", v);
        std::printf("\n  peak RSS at the end: %.0f MB\n", rssEnd);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ptq-bench-images: %s\n", e.what());
        return 1;
    }
}
