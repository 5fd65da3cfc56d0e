#include "ui/models/budget_model.h"

#include "ui/format.h"

#include <QtGui/QColor>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {
std::vector<BudgetModel::Figure> allocationRows() {
    auto row = [](const char* key, const QString& label, const QString& tip) {
        return BudgetModel::Figure{QString::fromLatin1(key), label, QStringLiteral("—"), {}, tip, {}};
    };
    // The prediction to read first is the top-1 through the loss; the per-layer sum is secondary.
    return {
        row("top1_from_loss", BudgetModel::tr("Predicted vs FP32"),
            BudgetModel::tr("Top-1 change from the FP32 model predicted through the loss: k × (the base model's "
                            "loss over FP32's + Σ ΔL), k the table's least-squares fit of Δtop-1 on Δloss over all "
                            "its cells. Counts the base model's own loss and averages over every sample, so it "
                            "follows measured top-1 more closely than the per-layer sum (docs/RESULTS.md). A fit "
                            "that lands above FP32 is no prediction of a gain: it shows as no drop. On unlabelled "
                            "data (a KL table) top-1 means agreement with the FP32 model's top-1")),
        row("measured_fit", BudgetModel::tr("Predicted from measured"),
            BudgetModel::tr("Top-1 change from FP32 predicted by a fit to allocations measured with a pipeline "
                            "(Quantize > Anchor predictions, or any allocation evaluated): offset, slope and "
                            "compounding of the table's load, ± one standard deviation, which grows away from the "
                            "measured allocations (the shaded band of the Pareto plot)")),
        row("delta_top1", BudgetModel::tr("Per-layer Δtop-1, summed"),
            BudgetModel::tr("Secondary: Σ of the chosen options' measured Δtop-1, each layer alone against the base "
                            "(8/8) model (points; negative = worse). Each counts a few flipped samples and they do "
                            "not add up, so a sum above FP32 is said in words, not shown as a prediction")),
        row("delta_loss", BudgetModel::tr("Predicted Δloss"), BudgetModel::tr("Σ of the chosen options' measured Δloss")),
        row("size", BudgetModel::tr("Size"), BudgetModel::tr("Quantizable weights at the chosen bits")),
        row("compression", BudgetModel::tr("Compression"), BudgetModel::tr("FP32 size / size")),
        row("bops", BudgetModel::tr("BOPs per sample"), BudgetModel::tr("Σ MACs × weight bits × activation bits")),
        row("target_cost", BudgetModel::tr("Target cost"),
            BudgetModel::tr("The selected hardware target's cost model summed over the chosen options")),
        row("status", BudgetModel::tr("Solver status"), BudgetModel::tr("What the last solve of the budget found")),
        row("solver_ms", BudgetModel::tr("Solver time"), BudgetModel::tr("Wall time of the last solve")),
    };
}
}  // namespace

BudgetModel::BudgetModel(QObject* parent) : QAbstractTableModel(parent), figures_(allocationRows()) {}

void BudgetModel::setFigure(const QString& key, const QString& value, const QString& detail, const QVariant& number) {
    const int row = rowOfKey(key);
    if (row < 0) return;
    Figure& f = figures_[size_t(row)];
    if (f.value == value && f.detail == detail && f.number == number) return;
    f.value = value;
    f.detail = detail;
    f.number = number;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

QString BudgetModel::points(double value) {
    return QStringLiteral("%1%2 pt").arg(value > 0 ? QStringLiteral("+") : QString()).arg(value, 0, 'f', 2);
}

void BudgetModel::setAllocation(const ptq::BudgetAllocation& a, const ptq::BudgetProblem& problem,
                                const ptq::SensitivityResult& table) {
    const double fp32 = problem.referenceCost(ptq::CostMetric::Size, ptq::CostReference::Fp32);
    const double int8Bops = problem.referenceCost(ptq::CostMetric::Bops, ptq::CostReference::Int8);
    setStatus(QString::fromStdString(a.status), a.feasible);
    if (!std::isfinite(a.deltaTop1FromLoss)) {
        setFigure(QStringLiteral("top1_from_loss"), tr("not available"), tr("no cell of the table moved the loss"), {});
    } else if (a.deltaTop1FromLoss > 0) {
        // Above FP32 is what the fit gives, not what quantization can promise: capped at FP32.
        setFigure(QStringLiteral("top1_from_loss"), points(0.0), tr("no drop predicted (the fit lands above FP32)"), 0.0);
    } else {
        setFigure(QStringLiteral("top1_from_loss"), points(a.deltaTop1FromLoss),
                  table.fp32Top1 > 0 ? tr("%1 % (FP32 %2 %)")
                                           .arg(table.fp32Top1 + a.deltaTop1FromLoss, 0, 'f', 2)
                                           .arg(table.fp32Top1, 0, 'f', 2)
                                     : tr("through Δloss"),
                  a.deltaTop1FromLoss);
    }
    // An allocation chosen on estimated cells rests on them: said beside the prediction.
    size_t estimated = 0;
    for (size_t l = 0; l < a.choice.size() && l < table.cells.size(); ++l)
        if (a.choice[l] >= 0 && size_t(a.choice[l]) < table.cells[l].size())
            estimated += table.cells[l][size_t(a.choice[l])].estimated ? 1 : 0;
    if (estimated > 0) {
        const int row = rowOfKey(QStringLiteral("top1_from_loss"));
        if (row >= 0) {
            const Figure f = figures_[size_t(row)];  // a copy: setFigure writes the row
            setFigure(f.key, f.value,
                      tr("≈ %1 of %2 chosen cells estimated · ").arg(estimated).arg(a.choice.size()) + f.detail, f.number);
        }
    }
    // A sum that comes out as a gain is the layers' noise adding up: said in words, not as a figure.
    if (table.baseTop1 + a.deltaTop1 > table.fp32Top1)
        setFigure(QStringLiteral("delta_top1"), tr("above FP32"), tr("not a prediction"), a.deltaTop1);
    else if (a.deltaTop1 > 0)
        setFigure(QStringLiteral("delta_top1"), tr("above the base"), tr("not a prediction"), a.deltaTop1);
    else
        setFigure(QStringLiteral("delta_top1"), points(a.deltaTop1), tr("vs the 8/8 model; secondary"), a.deltaTop1);
    // core/alloc breaks ties with at most 1e-7 of local MSE; below 1e-6 the sum reads as 0.
    const double shownLoss = std::abs(a.deltaLoss) < 1e-6 ? 0.0 : a.deltaLoss;
    setFigure(QStringLiteral("delta_loss"), QString::number(shownLoss, 'g', 3), {}, a.deltaLoss);
    setFigure(QStringLiteral("size"), formatBytes(a.sizeBytes),
              tr("%1 % of FP32").arg(fp32 > 0 ? 100.0 * a.sizeBytes / fp32 : 0.0, 0, 'f', 1), a.sizeBytes);
    setFigure(QStringLiteral("compression"), QStringLiteral("%1×").arg(a.sizeBytes > 0 ? fp32 / a.sizeBytes : 0.0, 0, 'f', 2),
              tr("vs FP32"), a.sizeBytes > 0 ? fp32 / a.sizeBytes : 0.0);
    setFigure(QStringLiteral("bops"), QStringLiteral("%1 G").arg(a.bops / 1e9, 0, 'f', 2),
              tr("%1 % of INT8").arg(int8Bops > 0 ? 100.0 * a.bops / int8Bops : 0.0, 0, 'f', 1), a.bops);
    if (a.targetUnit.empty()) {
        setFigure(QStringLiteral("target_cost"), QStringLiteral("—"), tr("no target selected"), {});
    } else {
        const auto target = problem.targetCosts();
        const double widest = target ? target->reference : 0.0;
        setFigure(QStringLiteral("target_cost"),
                  QStringLiteral("%1 %2").arg(a.targetCost, 0, 'f', 1).arg(QString::fromStdString(a.targetUnit)),
                  tr("%1 % of %2 at its widest").arg(widest > 0 ? 100.0 * a.targetCost / widest : 0.0, 0, 'f', 1)
                      .arg(target ? QString::fromStdString(target->target) : QString()),
                  a.targetCost);
    }
    setFigure(QStringLiteral("solver_ms"), QStringLiteral("%1 ms").arg(a.solverMs, 0, 'f', 2), {}, a.solverMs);
}

void BudgetModel::setMeasuredFits(const std::vector<std::pair<std::string, ptq::CorrectedPrediction>>& fits,
                                  double fp32Top1) {
    if (fits.empty()) {
        setFigure(QStringLiteral("measured_fit"), QStringLiteral("—"),
                  tr("nothing measured yet (Quantize > Anchor predictions)"), {});
        return;
    }
    // The fit with the most measurements first; the others after it in the detail.
    auto order = fits;
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& x, const auto& y) { return x.second.anchors > y.second.anchors; });
    auto text = [](const ptq::CorrectedPrediction& p) {
        return QStringLiteral("%1 ± %2 pt").arg(-p.drop, 0, 'f', 2).arg(p.uncertainty, 0, 'f', 2);
    };
    const auto& [pipeline, p] = order.front();
    QString detail = tr("%1 · %2 % · %3 measured, %4")
                         .arg(QString::fromStdString(pipeline))
                         .arg(fp32Top1 - p.drop, 0, 'f', 2)
                         .arg(p.anchors)
                         .arg(p.interpolated ? tr("between them") : tr("outside their range"));
    for (size_t i = 1; i < order.size(); ++i)
        detail += QStringLiteral("; %1: %2").arg(QString::fromStdString(order[i].first), text(order[i].second));
    setFigure(QStringLiteral("measured_fit"), text(p), detail, -p.drop);
}

void BudgetModel::setStatus(const QString& status, bool ok) {
    statusOk_ = ok;
    setFigure(QStringLiteral("status"), ok ? status : tr("infeasible"), ok ? QString() : status, ok);
    const int row = rowOfKey(QStringLiteral("status"));
    figures_[size_t(row)].toolTip = status;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void BudgetModel::clearAllocation() {
    for (const Figure& f : allocationRows()) setFigure(f.key, f.value, {}, {});
    statusOk_ = true;
}

void BudgetModel::setSummary(const ptq::ModelSummary& s) {
    std::vector<Figure> f;
    const double params = double(s.quantizableParams);
    const double fp32Bytes = params * 32.0 / 8.0;
    const QString weightsTip =
        tr("%1 conv/linear weight and bias elements × bits per element").arg(formatCount(s.quantizableParams));
    for (int bits : {32, 8, 4}) {
        const double bytes = params * bits / 8.0;
        const QString name = bits == 32 ? QStringLiteral("FP32") : QStringLiteral("INT%1").arg(bits);
        Figure fig;
        fig.key = QStringLiteral("size_%1").arg(name.toLower());
        fig.label = tr("Size at %1").arg(name);
        fig.value = formatBytes(bytes);
        fig.detail = bits == 32 ? tr("%1 bits each").arg(bits)
                                : tr("%1× smaller than FP32").arg(fp32Bytes / bytes, 0, 'f', 0);
        fig.toolTip = weightsTip;
        fig.number = bytes;
        f.push_back(fig);
    }
    f.push_back({QStringLiteral("params"), tr("Quantizable params"), formatCount(s.quantizableParams),
                 tr("of %1 in the model").arg(formatCount(s.totalParams)),
                 tr("Parameters the bit-width choice applies to; the rest are BatchNorm's"),
                 qlonglong(s.quantizableParams)});
    f.push_back({QStringLiteral("macs"), tr("MACs per sample"), formatMillions(s.totalMacs),
                 formatCount(s.totalMacs), tr("Multiply-accumulates of the conv and linear layers"),
                 qlonglong(s.totalMacs)});
    f.push_back({QStringLiteral("layers"), tr("Quantizable layers"), QString::number(s.layers.size()),
                 tr("conv and linear"), {}, qlonglong(s.layers.size())});
    Figure top1{QStringLiteral("fp32_top1"), tr("FP32 top-1"), tr("unknown"),
                tr("not in the model card"), {}, {}};
    if (s.card && s.card->fp32Top1 >= 0.0) {
        top1.value = QStringLiteral("%1 %").arg(s.card->fp32Top1, 0, 'f', 2);
        top1.detail = s.card->testImages > 0
                          ? tr("on %1 test images").arg(formatCount(s.card->testImages))
                          : tr("from the model card");
        top1.toolTip = s.card->dataset.empty()
                           ? tr("Measured when the model was made (its sidecar JSON)")
                           : tr("Measured on %1 when the model was made").arg(QString::fromStdString(s.card->dataset));
        top1.number = s.card->fp32Top1;
    }
    f.push_back(top1);
    std::vector<Figure> all = allocationRows();
    all.insert(all.end(), f.begin(), f.end());
    f = std::move(all);

    beginResetModel();
    figures_ = std::move(f);
    endResetModel();
}

void BudgetModel::clear() {
    beginResetModel();
    figures_ = allocationRows();
    endResetModel();
}

int BudgetModel::rowOfKey(const QString& key) const {
    for (size_t i = 0; i < figures_.size(); ++i)
        if (figures_[i].key == key) return int(i);
    return -1;
}

int BudgetModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(figures_.size());
}

int BudgetModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant BudgetModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Figure& f = figures_[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case FigureColumn: return f.label;
        case ValueColumn: return f.value;
        case DetailColumn: return f.detail;
        default: return {};
        }
    case Qt::ToolTipRole: return f.toolTip.isEmpty() ? QVariant() : QVariant(f.toolTip);
    case ValueRole: return f.number;
    case KeyRole: return f.key;
    case Qt::ForegroundRole:
        if (f.key == QLatin1String("status") && !statusOk_) return QColor(0xc62828);
        return {};
    case Qt::TextAlignmentRole:
        return index.column() == ValueColumn ? int(Qt::AlignRight | Qt::AlignVCenter)
                                             : int(Qt::AlignLeft | Qt::AlignVCenter);
    default: return {};
    }
}

QVariant BudgetModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case FigureColumn: return tr("Figure");
    case ValueColumn: return tr("Value");
    case DetailColumn: return tr("Detail");
    default: return {};
    }
}

}  // namespace ptq::ui
