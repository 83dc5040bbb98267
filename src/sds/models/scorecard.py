"""The success-criteria scorecard: each criterion's estimate with its interval, threshold,
verdict, and the seed's plain rule beside it.

Criteria (thresholds from :class:`~sds.models.config.ScorecardConfig`): AUC-ROC on test
above 0.85 (one-vs-rest AUC for multiclass; R² stands in for regression, same bar);
Brier score below 0.15; every calibration decile within 5 points; train-test gap below 5%;
permutation importance with no single feature holding more than 80% of it (a feature
that carries the model alone is the commonest sign of a leak; the figure is the number of
features covering 90%); no leaky feature; per protected column, the demographic-parity and
equalized-odds differences at most 0.10 and a selection-rate ratio of at least 0.8; and
reproducibility: the model refitted from the same config and seed predicts the test rows
identically (to 1e-9). A criterion that does not apply to the task is left out, not passed.

Each figure measured on the test rows is decided on its interval, at a one-sided
``alpha`` (``ScorecardConfig.alpha``, 0.05): the interval shown is the two-sided
``1 - 2 * alpha`` one (90%), and the verdict is ``fail`` when it lies wholly on the wrong
side of the threshold, ``pass`` when wholly on the right side, else ``not enough data``
with about the test rows that would decide it (:mod:`sds.models.verdict`). The intervals:
DeLong's for the binary AUC (its standard error, :mod:`sds.models.auc`), the t interval of
the mean squared error for Brier, each decile's Wilson interval for calibration
(:mod:`sds.models.calibration`), the test AUC's interval carried into the relative
train-test gap (the train score held fixed), and the two-proportion and log-ratio
intervals of :mod:`sds.models.fairness`. The importance share, the leakage findings,
reproducibility, and the multiclass AUC, R² and their gaps have no interval here: their
verdict is the plain rule. ``pass`` in each row is ``verdict != "fail"``, so
``--strict`` exits 1 only when the evidence says a criterion is broken; ``not enough
data`` is listed in the warnings.
"""

from __future__ import annotations

from typing import Any

from sds.models.calibration import deciding_decile
from sds.models.config import ScorecardConfig
from sds.models.records import Criterion
from sds.models.verdict import FAIL, UNDECIDED, decide, rows_needed, z_one_sided


def _row(
    criterion: str,
    value: Any,
    threshold: str,
    plain: bool,
    interval: tuple[float, float] | None = None,
    region: tuple[float | None, float | None] = (None, None),
    rows: int = 0,
) -> dict[str, Any]:
    """A criterion: exact (no ``interval``: the verdict is the plain rule) or decided on
    ``interval`` against the passing ``region``."""
    if interval is None:
        return Criterion(criterion, value, threshold, bool(plain)).to_dict()
    low, high = interval
    verdict = decide(low, high, *region)
    needed = rows_needed(value, low, high, rows, *region) if verdict == UNDECIDED else None
    plain_rule = "pass" if plain else "fail"
    return Criterion(
        criterion, value, threshold, verdict != FAIL, low, high, verdict, plain_rule, needed
    ).to_dict()


def scorecard(ev: dict[str, Any], limits: ScorecardConfig) -> list[dict[str, Any]]:
    """Rows for the criteria that apply, from an evaluation's ``to_dict()`` parts."""
    rows = [_main(ev, limits)]
    rows += _calibration(ev, limits)
    if ev.get("gap"):
        rows.append(_gap(ev, limits))
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
        rows += f["criteria"]  # decided by sds.models.fairness on its intervals
    if ev.get("reproducibility"):
        r = ev["reproducibility"]["max_abs_difference"]
        tol = limits.reproducibility_tolerance
        rows.append(_row("reproducibility (max prediction difference)", r, f"≤ {tol}", r <= tol))
    return rows


def undecided_warnings(card: list[Criterion] | tuple[Criterion, ...]) -> list[str]:
    """One line per criterion the test rows cannot decide: its plain rule and the rows
    that would decide it."""
    out = []
    for c in card:
        if c.verdict != UNDECIDED:
            continue
        if c.rows_needed is not None:
            rows = f"about {c.rows_needed:,} test rows would decide it"
        elif c.ci_lower is None:
            rows = "no interval (a group has no rows, outcomes or selections to compare)"
        else:
            rows = "its estimate sits on the threshold: no number of rows decides it"
        interval = (
            f"interval {c.ci_lower:.3g} to {c.ci_upper:.3g}"
            if c.ci_lower is not None and c.ci_upper is not None
            else "no interval"
        )
        out.append(
            f"{c.criterion}: not enough data ({interval}, threshold {c.threshold}; "
            f"plain rule: {c.plain_rule}); {rows}"
        )
    return out


def _main(ev: dict[str, Any], limits: ScorecardConfig) -> dict[str, Any]:
    """The task's main figure; the binary AUC with DeLong's interval."""
    metrics, task = ev["metrics"], ev["task"]
    main = {"binary": "auc", "multiclass": "auc_ovr", "regression": "r2"}[task]
    label = {"auc": "AUC-ROC", "auc_ovr": "AUC-ROC (one-vs-rest)", "r2": "R²"}[main]
    value = metrics[main]
    plain = value > limits.auc_min
    if task != "binary":
        return _row(label, value, f"> {limits.auc_min}", plain)
    half = z_one_sided(limits.alpha) * metrics["auc_std_error"]
    interval = (max(0.0, value - half), min(1.0, value + half))
    region = (limits.auc_min, None)
    return _row(label, value, f"> {limits.auc_min}", plain, interval, region, ev["rows"])


def _calibration(ev: dict[str, Any], limits: ScorecardConfig) -> list[dict[str, Any]]:
    cal = ev.get("calibration")
    if not cal:
        return []
    brier = _row(
        "Brier score",
        cal["brier"],
        f"< {limits.brier_max}",
        cal["brier"] < limits.brier_max,
        (cal["brier_ci_lower"], cal["brier_ci_upper"]),
        (None, limits.brier_max),
        ev["rows"],
    )
    tol = cal["tolerance"]
    shown = deciding_decile(cal["deciles"], tol)
    deciles = Criterion(
        "calibration, worst decile gap",
        shown["gap"],
        f"within ±{tol} in every decile (decile {shown['bin']} shown)",
        cal["verdict"] != FAIL,
        shown["gap_ci_lower"],
        shown["gap_ci_upper"],
        cal["verdict"],
        "pass" if cal["within_tolerance"] else "fail",
        cal["rows_needed"],
    )
    return [brier, deciles.to_dict()]


def _gap(ev: dict[str, Any], limits: ScorecardConfig) -> dict[str, Any]:
    """The relative train-test gap; for a binary task, the test AUC's interval carried
    into it with the train score held fixed."""
    g = ev["gap"]
    value, label, threshold = g["relative_gap"], "train-test gap (relative)", f"< {limits.gap_max}"
    plain = value < limits.gap_max
    if ev["task"] != "binary" or not g["train"]:
        return _row(label, value, threshold, plain)
    half = z_one_sided(limits.alpha) * ev["metrics"]["auc_std_error"]
    test_low, test_high = max(0.0, g["test"] - half), min(1.0, g["test"] + half)
    scale = abs(g["train"])
    interval = ((g["train"] - test_high) / scale, (g["train"] - test_low) / scale)
    return _row(label, value, threshold, plain, interval, (None, limits.gap_max), ev["rows"])
