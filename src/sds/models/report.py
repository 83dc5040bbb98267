"""Report sections for model evaluation and training results (text, Markdown, HTML).

The scorecard comes first (each criterion's estimate, interval, threshold, verdict, the
plain rule on the estimate beside it, and the test rows that would decide a "not enough
data"), then the warnings, the metrics, then each check with its plot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sds.models import plots
from sds.report.plots import bar_svg
from sds.results import Figure, KeyValue, Note, Section, Table, records_table

_SKIP = {"confusion", "report"}
_FAIRNESS = (
    "demographic_parity_difference",
    "equalized_odds_difference",
    "demographic_parity_ratio",
    "limit",
    "ratio_min",
)


def evaluation_sections(d: dict[str, Any]) -> list[Section]:

    rows = [(k, v) for k, v in d.items() if not isinstance(v, dict | list) and v is not None]
    out: list[Section] = [KeyValue("Model", rows)]
    out.append(_scorecard(d))
    if d["warnings"]:
        out.append(Note("Warnings", d["warnings"]))
    metrics = d["metrics"]
    out.append(KeyValue("Metrics", [(k, v) for k, v in metrics.items() if k not in _SKIP]))
    if "confusion" in metrics:
        out.append(_confusion(metrics["confusion"]))
        out.append(records_table("Classification report", metrics["report"]))
    if "roc" in d:
        roc, pr = d["roc"], d["pr"]
        out.append(
            Figure(
                "ROC curve",
                lambda: plots.curve_svg(
                    roc["fpr"],
                    roc["tpr"],
                    "false positive rate",
                    "true positive rate",
                    diagonal=True,
                ),
            )
        )
        out.append(
            Figure(
                "Precision-recall curve",
                lambda: plots.curve_svg(pr["recall"], pr["precision"], "recall", "precision"),
            )
        )
    out.extend(_calibration(d))
    out.extend(_fairness(d))
    out.extend(_stability(d))
    if "residuals" in d:
        res = d["residuals"]
        out.append(
            Figure("Residuals", lambda: plots.residual_svg(res["predicted"], res["residual"]))
        )
    if d.get("leakage"):
        out.append(records_table("Leakage findings (training rows)", d["leakage"]))
    if d.get("comparison"):
        out.append(records_table("Model comparison", d["comparison"]))
    return out


def _scorecard(d: dict[str, Any]) -> Table:
    """Each criterion: estimate, interval, threshold, verdict, the plain rule on the
    estimate, and the test rows that would decide a ``not enough data``."""
    card = d["scorecard"]
    counts = {v: sum(r["verdict"] == v for r in card) for v in ("pass", "fail", "not enough data")}
    told = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    alpha = (d.get("calibration") or {}).get("alpha")
    level = f"; {1 - 2 * alpha:.0%} intervals, one-sided alpha {alpha}" if alpha else ""
    return records_table(f"Scorecard ({len(card)} criteria: {told}{level})", card)


def _confusion(matrix: list[list[int]]) -> Table:
    columns = ["actual \\ predicted", *(str(i) for i in range(len(matrix)))]
    return Table(
        "Confusion matrix (rows: actual)", columns, [[str(i), *row] for i, row in enumerate(matrix)]
    )


def _calibration(d: dict[str, Any]) -> list[Section]:

    cal = d.get("calibration")
    if not cal:
        return []
    out: list[Section] = [
        KeyValue(
            "Calibration",
            [
                ("brier", cal["brier"]),
                ("brier_ci_lower", cal["brier_ci_lower"]),
                ("brier_ci_upper", cal["brier_ci_upper"]),
                ("ece", cal["ece"]),
                ("within_tolerance", cal["within_tolerance"]),
                ("tolerance", cal["tolerance"]),
                ("alpha", cal["alpha"]),
                ("verdict", cal["verdict"]),
                ("rows_needed", cal["rows_needed"]),
            ],
        ),
        records_table("Calibration by decile", cal["deciles"]),
        Figure(
            "Reliability diagram", lambda: plots.reliability_svg(cal["deciles"], cal["tolerance"])
        ),
    ]
    if d.get("recalibration"):
        out.append(records_table("Recalibration (test rows)", d["recalibration"]))
    return out


def _fairness(d: dict[str, Any]) -> list[Section]:
    out: list[Section] = []
    for f in d.get("fairness") or []:
        groups = f["groups"]
        out.append(KeyValue(f"Fairness by {f['column']}", [(k, f[k]) for k in _FAIRNESS]))
        out.append(records_table(f"Fairness by {f['column']}: groups", groups))
        out.append(Figure(f"Selection rate by {f['column']}", _selection_plot(groups)))
    return out


def _selection_plot(groups: list[dict[str, Any]]) -> Callable[[], str]:

    labels = [str(r["group"]) for r in groups]
    rates = [r["selection_rate"] for r in groups]
    return lambda: bar_svg(labels, rates, "selection rate")


def _stability(d: dict[str, Any]) -> list[Section]:

    out: list[Section] = []
    if d.get("gap"):
        out.append(KeyValue("Train-test gap", list(d["gap"].items())))
    if d.get("learning_curve"):
        curve = d["learning_curve"]
        out.append(records_table("Learning curve", curve))
        out.append(Figure("Learning curve", lambda: plots.learning_svg(curve, "score")))
    if d.get("cv"):
        out.append(KeyValue("Cross-validated spread", list(d["cv"].items())))
    if d.get("resampling"):
        out.extend(_resampling(d["resampling"]))
    imp = d.get("importance")
    if imp:
        top = imp["features"][:15]
        out.append(
            records_table(
                f"Permutation importance ({imp['repeats']} repeats): "
                f"{imp['features_for_coverage']} features cover {imp['coverage']:.0%}",
                top,
            )
        )
        out.append(
            Figure(
                "Permutation importance",
                lambda: bar_svg(
                    [r["feature"] for r in top], [r["importance"] for r in top], "score drop"
                ),
            )
        )
    if d.get("reproducibility"):
        out.append(KeyValue("Reproducibility", list(d["reproducibility"].items())))
    return out


def _resampling(plan: dict[str, Any]) -> list[Section]:
    """The resampling plan: its one-line description, which steps use its folds (and which
    the validation or test rows), and the rows of each fold."""
    items = [(k, v) for k, v in plan.items() if k != "fold_rows"]
    return [
        KeyValue("Resampling plan", [(k, _joined(v)) for k, v in items]),
        records_table("Resampling folds (training rows)", plan["fold_rows"]),
    ]


def _joined(value: Any) -> Any:
    return ", ".join(map(str, value)) if isinstance(value, list) else value
