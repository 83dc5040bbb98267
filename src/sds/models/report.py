"""Report sections for model evaluation and training results (text, Markdown, HTML).

The scorecard comes first, then the warnings, the metrics, then each check with its plot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sds.models import plots
from sds.report.plots import bar_svg
from sds.results import Figure, KeyValue, Note, Section, Table, records_table

_SKIP = {"confusion", "report"}


def evaluation_sections(d: dict[str, Any]) -> list[Section]:

    rows = [(k, v) for k, v in d.items() if not isinstance(v, dict | list) and v is not None]
    out: list[Section] = [KeyValue("Model", rows)]
    card = d["scorecard"]
    passed = sum(r["pass"] for r in card)
    out.append(records_table(f"Scorecard: {passed} of {len(card)} criteria pass", card))
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
                ("ece", cal["ece"]),
                ("within_tolerance", cal["within_tolerance"]),
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
        out.append(
            records_table(
                f"Fairness by {f['column']}: parity difference "
                f"{f['demographic_parity_difference']:.3f}, equalized odds "
                f"{f['equalized_odds_difference']:.3f}",
                groups,
            )
        )
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
