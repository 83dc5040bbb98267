"""Regression discontinuity, sharp or fuzzy (rdrobust), with the design's own checks.

The estimate is rdrobust's local-polynomial point estimate at the MSE-optimal bandwidth;
the interval and p-value are its robust bias-corrected ones (Calonico, Cattaneo & Titiunik
2014), which is what should be quoted. Around it: the manipulation test of the running
variable's density at the cutoff (rddensity), the continuity of each covariate at the
cutoff, placebo cutoffs on each side, the estimate across a range of bandwidths, and an RD
plot of binned means.
"""

from __future__ import annotations

import contextlib
import io
import warnings as pywarnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sds.causal.data import load, numeric
from sds.causal.plots import bandwidth_plot, rd_plot
from sds.causal.result import CausalResult
from sds.errors import AnalysisError, DataError
from sds.params import check
from sds.stats.estimate import Estimate
from sds.stats.multiple import adjust

BANDWIDTH_FACTORS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
PLACEBO_QUANTILES = (0.25, 0.5, 0.75)
CORRECTION = "holm"  # across the placebo cutoffs
ABOVE = "above cutoff - below cutoff"  # rdrobust's jump: right limit minus left limit


def local_fit(
    y: np.ndarray,
    x: np.ndarray,
    cutoff: float,
    *,
    fuzzy: np.ndarray | None = None,
    covs: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    h: float | None = None,
    b: float | None = None,
    kernel: str = "triangular",
    confidence: float = 0.95,
) -> dict[str, float]:
    """One rdrobust fit: conventional estimate, robust bias-corrected SE, CI and p-value."""
    from rdrobust import rdrobust

    with pywarnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        pywarnings.simplefilter("ignore")  # and its notes on stdout ("Mass points detected")
        try:
            fit = rdrobust(
                y,
                x,
                c=cutoff,
                fuzzy=fuzzy,
                covs=covs,
                cluster=cluster,
                weights=weights,
                h=h,
                b=b,
                kernel=kernel,
                level=100 * confidence,
            )
        except Exception as exc:  # rdrobust raises bare Exceptions on too little data
            raise AnalysisError(
                f"rdrobust could not fit at cutoff {cutoff:g}: {exc}",
                hint="Too few distinct values of the running variable near the cutoff?",
            ) from exc
    n_left, n_right = (int(v) for v in fit.N_h)
    return {
        "estimate": float(fit.coef.iloc[0, 0]),
        "conventional_se": float(fit.se.iloc[0, 0]),
        "std_error": float(fit.se.iloc[2, 0]),
        "ci_lower": float(fit.ci.iloc[2, 0]),
        "ci_upper": float(fit.ci.iloc[2, 1]),
        "p_value": float(fit.pv.iloc[2, 0]),
        "bandwidth": float(fit.bws.iloc[0, 0]),
        "bias_bandwidth": float(fit.bws.iloc[1, 0]),
        "n_left": n_left,
        "n_right": n_right,
    }


def rdd(
    data: Any,
    outcome: str,
    running: str,
    cutoff: float = 0.0,
    *,
    treatment: str | None = None,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    weights: str | None = None,
    confidence: float = 0.95,
    placebo: bool = True,
) -> CausalResult:
    """The jump in `outcome` at `running == cutoff`; fuzzy when `treatment` is given
    (the jump in the outcome over the jump in the treatment's take-up).

    Args:
        data: A DataFrame, or what `sds.open_table` reads (a path, glob, SQL query or
            `Table`). Rows with a missing value in a column used are dropped and counted; a
            missing treatment is an error.
        outcome: Numeric outcome column.
        running: The score whose crossing of `cutoff` assigns treatment (numeric, with
            rows on both sides).
        cutoff: Value of `running` at which treatment switches on (treated at or above it).
        treatment: 0/1 take-up column for a fuzzy design; `None` for a sharp design.
        covariates: Columns tested for continuity at the cutoff (a jump warns that the
            design is broken); they do not enter the estimate.
        cluster: Column to cluster the standard errors by; `None` for rdrobust's
            heteroskedasticity-robust errors.
        weights: Column of non-negative row weights; `None` weighs rows equally.
        confidence: Coverage of the reported intervals, in (0, 1); `1 - confidence` is also
            the level of the warnings' tests.
        placebo: Also estimate jumps at fake cutoffs at the quartiles of each side, using
            that side's rows only (Holm-adjusted); a significant one warns.

    Returns:
        The robust bias-corrected estimate at the MSE-optimal bandwidth (`rdd-sharp`, or
            `rdd-fuzzy` for the LATE), the density test, covariate continuity, placebo
            cutoffs, the estimate across bandwidths, an RD plot and a verdict.

    Raises:
        DataError: A column is missing or not numeric, or no row lies on one side of the
            cutoff.
        AnalysisError: rdrobust cannot fit the data.
    """
    check("confidence", confidence)
    columns = [outcome, running, treatment, *covariates, cluster, weights]
    frame, warnings, source = load(data, columns, required=[treatment])
    y, x = numeric(frame, outcome, source), numeric(frame, running, source)
    _check_sides(x, cutoff, running, source)
    d = numeric(frame, treatment, source) if treatment else None
    cl = pd.factorize(frame[cluster])[0] if cluster else None
    w = numeric(frame, weights, source) if weights else None
    main = local_fit(y, x, cutoff, fuzzy=d, cluster=cl, weights=w, confidence=confidence)
    alpha = 1 - confidence
    tables: dict[str, list[dict[str, Any]]] = {
        "bandwidths": _bandwidths(
            y, x, cutoff, d, cl, w, (main["bandwidth"], main["bias_bandwidth"]), confidence
        ),
    }
    density = _density(x, cutoff)
    diagnostics: dict[str, Any] = {
        "cutoff": cutoff,
        "bandwidth": main["bandwidth"],
        "bias_bandwidth": main["bias_bandwidth"],
        "conventional_se": main["conventional_se"],
        "density_test_stat": density["stat"],
        "density_test_p": density["p"],
    }
    if density["p"] is not None and density["p"] < alpha:
        warnings.append(
            f"the density of {running} jumps at the cutoff (rddensity p = {density['p']:.3g}): "
            "units may sort themselves across it, which breaks the design"
        )
    if covariates:
        tables["covariate_continuity"] = [
            _continuity(frame, c, x, cutoff, cl, source, confidence) for c in covariates
        ]
        warnings += _continuity_warning(tables["covariate_continuity"], alpha)
    if d is not None:
        take_up, note = _take_up(d, x, cutoff, cl, w, confidence)
        diagnostics.update(take_up)
        warnings += note
    if placebo:
        tables["placebo_cutoffs"] = _placebos(y, x, cutoff, cl, confidence)
        warnings += _placebo_warning(tables["placebo_cutoffs"], alpha)

    method = "rdd-fuzzy" if treatment else "rdd-sharp"
    return CausalResult(
        method=method,
        estimand="LATE at the cutoff" if treatment else "ATE at the cutoff",
        effect=Estimate(
            main["estimate"],
            main["std_error"],
            main["ci_lower"],
            main["ci_upper"],
            main["p_value"],
            confidence,
            method,
            "treated - control (compliers at the cutoff)" if treatment else ABOVE,
        ),
        n={
            "observations": len(frame),
            "left_in_bandwidth": int(main["n_left"]),
            "right_in_bandwidth": int(main["n_right"]),
        },
        outcome=outcome,
        treatment=treatment or f"{running} >= {cutoff:g}",
        diagnostics={k: v for k, v in diagnostics.items() if v is not None},
        warnings=tuple(warnings),
        tables={**tables, "binned_means": _bins(y, x, cutoff)},
        assumptions=(
            "Continuity: without treatment, the outcome's expectation would be continuous "
            "at the cutoff.",
            "No manipulation: units cannot place themselves precisely on one side.",
            "The estimate is local: it holds for units near the cutoff.",
        ),
        figures=(("RD plot", rd_plot), ("Estimate by bandwidth", bandwidth_plot)),
    )


def _continuity_warning(rows: list[dict[str, Any]], alpha: float) -> list[str]:
    broken = [r["covariate"] for r in rows if r["p_value"] < alpha]
    if not broken:
        return []
    return [
        f"covariates jump at the cutoff ({', '.join(broken)}): units just either side "
        "differ in more than treatment"
    ]


def _take_up(
    d: np.ndarray,
    x: np.ndarray,
    cutoff: float,
    cl: np.ndarray | None,
    w: np.ndarray | None,
    confidence: float,
) -> tuple[dict[str, float], list[str]]:
    """The jump in treatment take-up (the fuzzy design's first stage)."""
    fit = local_fit(d, x, cutoff, cluster=cl, weights=w, confidence=confidence)
    out = {"first_stage_jump": fit["estimate"], "first_stage_p": fit["p_value"]}
    if fit["p_value"] < 1 - confidence:
        return out, []
    return out, [
        "the treatment's take-up does not jump significantly at the cutoff "
        f"(p = {fit['p_value']:.3g}): the fuzzy estimate is weakly identified"
    ]


def _placebo_warning(rows: list[dict[str, Any]], alpha: float) -> list[str]:
    false = [r for r in rows if r["p_adjusted"] < alpha]
    if not false:
        return []
    return [
        f"{len(false)} of {len(rows)} placebo cutoffs show a jump (Holm-adjusted "
        f"p < {alpha:g}): the outcome may be discontinuous where nothing happens"
    ]


def _check_sides(x: np.ndarray, cutoff: float, running: str, source: str) -> None:
    below, above = int((x < cutoff).sum()), int((x >= cutoff).sum())
    if below == 0 or above == 0:
        raise DataError(
            "has no observations on one side of the cutoff",
            source=source,
            column=running,
            found=f"{below:,} below and {above:,} at or above {cutoff:g} "
            f"(range {x.min():g} to {x.max():g})",
            hint="Check --cutoff: it must lie inside the running variable's range.",
        )
    if min(below, above) < 10:
        raise DataError(
            "too few observations on one side of the cutoff for a local regression",
            source=source,
            column=running,
            found=f"{below:,} below and {above:,} at or above {cutoff:g}",
            expected="at least 10 on each side",
        )


def _density(x: np.ndarray, cutoff: float) -> dict[str, float | None]:
    from rddensity import rddensity

    with pywarnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        pywarnings.simplefilter("ignore")
        try:
            test = rddensity(X=x, c=cutoff).test
        except Exception:  # too few points for the density test: reported as missing
            return {"stat": None, "p": None}
    stat, p = float(test["t_jk"]), float(test["p_jk"])
    return {"stat": stat, "p": p} if np.isfinite(p) else {"stat": None, "p": None}


def _continuity(
    frame: pd.DataFrame,
    column: str,
    x: np.ndarray,
    cutoff: float,
    cl: np.ndarray | None,
    source: str,
    confidence: float,
) -> dict[str, Any]:
    fit = local_fit(numeric(frame, column, source), x, cutoff, cluster=cl, confidence=confidence)
    return {"covariate": column, **_short(fit)}


def _bandwidths(
    y: np.ndarray,
    x: np.ndarray,
    cutoff: float,
    d: np.ndarray | None,
    cl: np.ndarray | None,
    w: np.ndarray | None,
    bandwidths: tuple[float, float],
    confidence: float,
) -> list[dict[str, Any]]:
    """The fit with both bandwidths scaled; factor 1 is the main estimate."""
    h, b = bandwidths
    rows = []
    for factor in BANDWIDTH_FACTORS:
        try:
            fit = local_fit(
                y,
                x,
                cutoff,
                fuzzy=d,
                cluster=cl,
                weights=w,
                h=h * factor,
                b=b * factor,
                confidence=confidence,
            )
        except AnalysisError:
            continue
        rows.append({"bandwidth_factor": factor, **_short(fit)})
    return rows


def _placebos(
    y: np.ndarray, x: np.ndarray, cutoff: float, cl: np.ndarray | None, confidence: float
) -> list[dict[str, Any]]:
    """Fake cutoffs at quantiles of each side, using that side's data only (so the real
    jump cannot leak in); none of them should show a jump."""
    rows = []
    for side, mask in (("left", x < cutoff), ("right", x >= cutoff)):
        xs, ys = x[mask], y[mask]
        for q in PLACEBO_QUANTILES:
            fake = float(np.quantile(xs, q))
            try:
                fit = local_fit(
                    ys, xs, fake, cluster=None if cl is None else cl[mask], confidence=confidence
                )
            except AnalysisError:
                continue
            rows.append({"side": side, "cutoff": fake, **_short(fit)})

    for row, p in zip(rows, adjust([r["p_value"] for r in rows], CORRECTION), strict=True):
        row["p_adjusted"], row["correction"] = p, CORRECTION
    return rows


def _short(fit: dict[str, float]) -> dict[str, Any]:
    keys = ("estimate", "std_error", "ci_lower", "ci_upper", "p_value", "bandwidth")
    return {k: fit[k] for k in keys}


def _bins(y: np.ndarray, x: np.ndarray, cutoff: float, per_side: int = 20) -> list[dict[str, Any]]:
    """Means of the outcome in equal-count bins on each side (for the RD plot)."""
    rows = []
    for side, mask in (("left", x < cutoff), ("right", x >= cutoff)):
        order = np.argsort(x[mask])
        xs, ys = x[mask][order], y[mask][order]
        for chunk in np.array_split(np.arange(len(xs)), min(per_side, len(xs))):
            rows.append(
                {
                    "side": side,
                    "x": float(xs[chunk].mean()),
                    "y": float(ys[chunk].mean()),
                    "n": len(chunk),
                }
            )
    return rows
