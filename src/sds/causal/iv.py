"""Instrumental variables: 2SLS or LIML (linearmodels) with the checks an IV estimate needs.

``iv(data, outcome="lwage", treatment="educ", instruments=["nearc4"], covariates=[...])``
fits one endogenous treatment and reports, beside the estimate: the first stage (coefficients
on the instruments, their joint F with the same error type, and the Montiel Olea-Pflueger
effective F, which is the honest strength measure under heteroskedasticity or clustering);
a weak-instrument warning below F = 10; the Anderson-Rubin confidence set, which stays valid
however weak the instruments are; the overidentification test (Sargan with classical errors,
Hansen's J otherwise) when there are more instruments than treatments; and the endogeneity
test (Wu-Hausman with classical errors, Wooldridge's robust regression test otherwise).
"""

from __future__ import annotations

import warnings as pywarnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sds.causal.ar import IVData, anderson_rubin
from sds.causal.data import load, numeric
from sds.causal.result import TREATED, CausalResult
from sds.errors import DataError, ParameterError
from sds.params import OneOf, check
from sds.stats.estimate import Estimate

ESTIMATORS = ("2sls", "liml")
COV_TYPES = ("robust", "unadjusted", "cluster")
WEAK_F = 10.0


def iv(
    data: Any,
    outcome: str,
    treatment: str,
    instruments: Sequence[str],
    covariates: Sequence[str] = (),
    *,
    estimator: str = "2sls",
    cov_type: str | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    confidence: float = 0.95,
) -> CausalResult:
    """The effect of `treatment` on `outcome`, instrumented by `instruments`.

    Args:
        data: A DataFrame, or what `sds.open_table` reads (a path, glob, SQL query or
            `Table`). Rows with a missing value in a column used are dropped and counted; a
            missing treatment is an error.
        outcome: Numeric outcome column.
        treatment: The one endogenous treatment column (numeric; need not be 0/1).
        instruments: Columns that shift the treatment and affect the outcome only through
            it; at least one, the treatment not among them.
        covariates: Exogenous control columns, in both stages.
        estimator: `2sls` (default) or `liml` (less biased with many or weak instruments).
        cov_type: Standard errors: `robust` (heteroskedasticity-robust), `unadjusted`
            (classical) or `cluster`. `None` means `cluster` when `cluster` is given, else
            `robust`.
        cluster: Column to cluster the standard errors by (needed for `cov_type="cluster"`).
        weights: Column of non-negative row weights; `None` weighs rows equally.
        confidence: Coverage of the reported intervals, in (0, 1); `1 - confidence` is also
            the level of the warnings' tests.

    Returns:
        The IV estimate with its interval, the first stage (coefficients, joint F and the
            Montiel Olea-Pflueger effective F), the Anderson-Rubin confidence set, the
            overidentification and endogeneity tests where they apply, and a verdict.

    Raises:
        ParameterError: No instrument, the treatment among its instruments, an unknown
            `estimator` or `cov_type`, or clustered errors without `cluster`.
        DataError: A column is missing or not numeric, or the instruments are collinear or
            constant.
    """
    check("confidence", confidence)
    check("estimator", estimator, OneOf(ESTIMATORS))
    cov = check("cov_type", cov_type or ("cluster" if cluster else "robust"), OneOf(COV_TYPES))
    if cov == "cluster" and not cluster:
        raise ParameterError("clustered errors need a cluster column", parameter="cluster")
    if not instruments:
        raise ParameterError("IV needs at least one instrument", parameter="instrument")
    if treatment in instruments:
        raise ParameterError(
            "the treatment cannot be its own instrument", parameter="instrument", found=treatment
        )
    columns = [outcome, treatment, *instruments, *covariates, cluster, weights]
    frame, warnings, source = load(data, columns, required=[treatment])
    y, d = numeric(frame, outcome, source), numeric(frame, treatment, source)
    z = np.column_stack([numeric(frame, c, source) for c in instruments])
    x = np.column_stack([np.ones(len(frame))] + [numeric(frame, c, source) for c in covariates])
    w = numeric(frame, weights, source) if weights else None
    _check_instruments(z, x, instruments, source)
    groups = pd.factorize(frame[cluster])[0] if cluster else None
    data = IVData(y, d, x, z, w, cov, groups)
    fitted = _fit(data, estimator, treatment, list(instruments), covariates)
    beta = float(fitted.params[treatment])
    se = float(fitted.std_errors[treatment])
    lo, hi = (float(v) for v in fitted.conf_int(level=confidence).loc[treatment])
    first = _first_stage(data, list(instruments))
    ar = anderson_rubin(data, confidence, beta, se)
    diagnostics: dict[str, Any] = {
        "first_stage_f": first["f"],
        "effective_f": first["effective_f"],
        "first_stage_partial_r2": first["partial_r2"],
        "anderson_rubin_ci": ar["interval"],
        "anderson_rubin_set": ar["label"],
        "anderson_rubin_p": ar["p_value"],
    }
    diagnostics.update(_specification_tests(fitted, data))
    warnings += _warnings(first, ar, diagnostics, confidence)
    binary = set(np.unique(d)) <= {0.0, 1.0}
    contrast = f"{TREATED} (compliers)" if binary else f"per unit of {treatment} (compliers)"
    return CausalResult(
        method=f"iv-{estimator}",
        estimand="LATE",
        effect=Estimate(
            beta,
            se,
            lo,
            hi,
            float(fitted.pvalues[treatment]),
            confidence,
            f"iv-{estimator}",
            contrast,
            statistic=float(fitted.tstats[treatment]),
        ),
        n={
            "observations": len(frame),
            **({"clusters": int(frame[cluster].nunique())} if cluster else {}),
        },
        outcome=outcome,
        treatment=treatment,
        diagnostics=diagnostics,
        warnings=tuple(warnings),
        tables={"first_stage": first["rows"]},
        assumptions=(
            "Relevance: the instruments move the treatment (see the first-stage F).",
            "Exclusion: the instruments affect the outcome only through the treatment.",
            "Independence: the instruments are as good as randomly assigned given the covariates.",
            "Monotonicity: no unit takes the treatment less because of the instrument; the "
            "estimate is then the effect for compliers (LATE).",
        ),
    )


def _check_instruments(z: np.ndarray, x: np.ndarray, names: Sequence[str], source: str) -> None:
    for j, name in enumerate(names):
        if np.ptp(z[:, j]) == 0:
            raise DataError(
                "the instrument is constant, so it cannot move the treatment",
                source=source,
                column=name,
                found=f"every row is {z[0, j]:g}",
            )
    full = np.column_stack([x, z])
    if np.linalg.matrix_rank(full) < full.shape[1]:
        raise DataError(
            "the instruments are collinear with each other or with the covariates",
            source=source,
            found=", ".join(names),
            hint="Drop an instrument or covariate that another one determines.",
        )


def _linearmodels_cov(data: IVData) -> dict[str, Any]:
    if data.cov == "cluster":
        return {"cov_type": "clustered", "clusters": data.groups}
    return {"cov_type": data.cov}


def _fit(
    data: IVData, estimator: str, treatment: str, instruments: list[str],
    covariates: Sequence[str],
) -> Any:  # fmt: skip
    from linearmodels.iv import IV2SLS, IVLIML

    model = IV2SLS if estimator == "2sls" else IVLIML
    exog = pd.DataFrame(data.x, columns=["const", *covariates])
    endog = pd.DataFrame({treatment: data.d})
    instr = pd.DataFrame(data.z, columns=instruments)
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")  # linearmodels' notes on its own defaults
        # debiased: small-sample (n - k) scaling and t/F reference distributions, as the
        # textbooks and Stata's ``small`` option report
        return model(pd.Series(data.y, name="outcome"), exog, endog, instr, weights=data.w).fit(
            **_linearmodels_cov(data), debiased=True
        )


def _ols(target: np.ndarray, design: np.ndarray, data: IVData, cov: str | None = None) -> Any:
    """OLS (WLS with the problem's weights) with its error type, or ``cov`` if given."""
    import statsmodels.api as sm

    w = data.w
    model = sm.WLS(target, design, weights=w) if w is not None else sm.OLS(target, design)
    cov = cov or data.cov
    if cov == "cluster":
        return model.fit(cov_type="cluster", cov_kwds={"groups": data.groups})
    return model.fit(cov_type="HC1" if cov == "robust" else "nonrobust")


def _first_stage(data: IVData, instruments: list[str]) -> dict[str, Any]:
    """The treatment on instruments and covariates: joint F of the instruments (with the
    chosen errors), the effective F, and the partial R-squared."""
    x, z = data.x, data.z
    k = z.shape[1]
    fit = _ols(data.d, np.column_stack([z, x]), data)
    pi = fit.params[:k]
    v = fit.cov_params()[:k, :k]
    f = float(pi @ np.linalg.solve(v, pi) / k)
    # Montiel Olea & Pflueger (2013): instruments partialled out of the covariates
    zt = z - x @ np.linalg.lstsq(x, z, rcond=None)[0]
    zz = zt.T @ zt
    effective = float(pi @ zz @ pi / np.trace(v @ zz))
    restricted = _ols(data.d, x, data, "unadjusted")
    partial = 1 - fit.ssr / restricted.ssr
    rows = [
        {
            "instrument": name,
            "coefficient": float(pi[j]),
            "std_error": float(np.sqrt(v[j, j])),
            "t": float(pi[j] / np.sqrt(v[j, j])),
            "p_value": float(fit.pvalues[j]),
        }
        for j, name in enumerate(instruments)
    ]
    return {"f": f, "effective_f": effective, "partial_r2": float(partial), "rows": rows}


def _specification_tests(fitted: Any, data: IVData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.cov == "unadjusted":
        wu = fitted.wu_hausman()
        out["endogeneity_test"] = "Wu-Hausman"
    else:
        wu = fitted.wooldridge_regression
        out["endogeneity_test"] = "Wooldridge robust regression test"
    out["endogeneity_stat"], out["endogeneity_p"] = float(wu.stat), float(wu.pval)
    if data.z.shape[1] > 1:
        if data.cov == "unadjusted":
            test, name = fitted.sargan, "Sargan"
        else:
            test, name = _hansen_j(data), "Hansen J"
        out["overid_test"] = name
        out["overid_stat"], out["overid_p"] = float(test.stat), float(test.pval)
    return out


def _hansen_j(data: IVData) -> Any:
    from linearmodels.iv import IVGMM

    kwargs: dict[str, Any] = {"weight_type": "robust"}
    if data.cov == "cluster":
        kwargs = {"weight_type": "clustered", "clusters": data.groups}
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        model = IVGMM(data.y, data.x, data.d, data.z, weights=data.w, **kwargs)
        fitted: Any = model.fit(**_linearmodels_cov(data), debiased=True)
        return fitted.j_stat


def _warnings(
    first: dict[str, Any], ar: dict[str, Any], diag: dict[str, Any], confidence: float
) -> list[str]:
    out = []
    strength = first["effective_f"]
    if strength < WEAK_F:
        out.append(
            f"weak instruments: the effective first-stage F is {strength:.3g}, below "
            f"{WEAK_F:g}; the 2SLS interval is unreliable and biased towards OLS. Quote the "
            f"Anderson-Rubin set ({ar['label']}), which is valid however weak the instruments."
        )
    if diag.get("overid_p") is not None and diag["overid_p"] < 1 - confidence:
        out.append(
            f"the overidentification test rejects (p = {diag['overid_p']:.3g}): the instruments "
            "disagree about the effect, so at least one may violate the exclusion restriction "
            "(or effects differ across compliers)"
        )
    if not ar["bounded"]:
        out.append(
            f"the Anderson-Rubin confidence set is unbounded ({ar['label']}): the data cannot "
            "rule out any effect size"
        )
    return out
