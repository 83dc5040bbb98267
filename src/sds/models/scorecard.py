"""The success-criteria scorecard: each criterion pass/fail with its figure and threshold.

Criteria (thresholds from :class:`~sds.models.config.ScorecardConfig`): AUC-ROC on test
above 0.85 (one-vs-rest AUC for multiclass; R² stands in for regression, same bar);
Brier score below 0.15; every calibration decile within 5 points; train-test gap below 5%;
permutation importance with no single feature holding more than 80% of it (a feature
that carries the model alone is the commonest sign of a leak; the figure is the number of
features covering 90%); no leaky feature; per protected column, fairness differences below
0.10 and a selection-rate ratio of at least 0.8; and reproducibility: the model refitted
from the same config and seed predicts the test rows identically (to 1e-9). A criterion
that does not apply to the task is left out, not passed.
"""

from __future__ import annotations

from typing import Any

from sds.models.config import ScorecardConfig


def _row(criterion: str, value: Any, threshold: str, passed: bool) -> dict[str, Any]:
    return {"criterion": criterion, "value": value, "threshold": threshold, "pass": bool(passed)}


def scorecard(ev: dict[str, Any], limits: ScorecardConfig) -> list[dict[str, Any]]:
    """Rows for the criteria that apply, from an evaluation's ``to_dict()`` parts."""
    rows = []
    metrics, task = ev["metrics"], ev["task"]
    main = {"binary": "auc", "multiclass": "auc_ovr", "regression": "r2"}[task]
    label = {"auc": "AUC-ROC", "auc_ovr": "AUC-ROC (one-vs-rest)", "r2": "R²"}[main]
    rows.append(_row(label, metrics[main], f"> {limits.auc_min}", metrics[main] > limits.auc_min))
    if ev.get("calibration"):
        cal = ev["calibration"]
        rows.append(
            _row(
                "Brier score",
                cal["brier"],
                f"< {limits.brier_max}",
                cal["brier"] < limits.brier_max,
            )
        )
        worst = max(abs(d["gap"]) for d in cal["deciles"])
        rows.append(
            _row(
                "calibration, worst decile gap",
                worst,
                f"≤ {limits.calibration_tolerance} in every decile",
                cal["within_tolerance"],
            )
        )
    if ev.get("gap"):
        g = ev["gap"]["relative_gap"]
        rows.append(_row("train-test gap (relative)", g, f"< {limits.gap_max}", g < limits.gap_max))
    if ev.get("importance"):
        imp = ev["importance"]
        rows.append(
            _row(
                f"features covering {imp['coverage']:.0%} of importance",
                imp["features_for_coverage"],
                f"top feature ≤ {limits.single_feature_share_max:.0%} "
                f"(it holds {imp['top_share']:.0%})",
                imp["top_share"] <= limits.single_feature_share_max,
            )
        )
    if ev.get("leakage") is not None:
        leaky = [f["feature"] for f in ev["leakage"] if f["drop"]]
        rows.append(_row("leaky features", ", ".join(leaky) or "none", "none", not leaky))
    for f in ev.get("fairness") or []:
        worst = max(f["demographic_parity_difference"], f["equalized_odds_difference"])
        rows.append(
            _row(
                f"fairness by {f['column']} (largest difference)",
                worst,
                f"≤ {limits.fairness_max}",
                worst <= limits.fairness_max,
            )
        )
        ratio = f["demographic_parity_ratio"]
        rows.append(
            _row(
                f"fairness by {f['column']} (selection-rate ratio)",
                ratio,
                f"≥ {limits.fairness_ratio_min}",
                ratio >= limits.fairness_ratio_min,
            )
        )
    if ev.get("reproducibility"):
        r = ev["reproducibility"]["max_abs_difference"]
        tol = limits.reproducibility_tolerance
        rows.append(_row("reproducibility (max prediction difference)", r, f"≤ {tol}", r <= tol))
    return rows
