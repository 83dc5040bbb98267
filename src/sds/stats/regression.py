"""OLS, logistic and Poisson regression from a formula, with robust errors and diagnostics.

``regress(data, "revenue ~ price + C(region)")`` wraps statsmodels' formula models and adds
what a careful analyst checks before quoting a coefficient: rows dropped for missing values,
an outcome that fits the family, a design of full rank, collinearity (VIF), residual
normality and heteroskedasticity (OLS), influential points (Cook's distance), separation and
convergence (logit), overdispersion (Poisson).

Standard errors are robust by default: HC3 for OLS (the best small-sample choice of
Long & Ervin 2000), HC0 for the likelihood models; ``cluster=COLUMN`` gives cluster-robust
errors. statsmodels computes only HC0 for GLMs (it silently returns HC0 when asked for
HC1-HC3), so those are refused for logit and Poisson rather than mislabelled.
"""

from __future__ import annotations

import re
import warnings as pywarnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sds.errors import DataError, ParameterError, missing_column_error
from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table
from sds.stats import regression_diagnostics as diag
from sds.stats.formula_guard import check_formula, eval_env
from sds.stats.result import interval_label

FAMILIES = ("ols", "logit", "poisson")
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
GLM_COV_TYPES = ("nonrobust", "HC0", "cluster")
_FORMULA_NAMES = {
    "C", "I", "Q", "np", "numpy", "log", "exp", "sqrt", "center", "standardize", "scale",
    "bs", "cr", "cc", "te", "Treatment", "Sum", "Diff", "Poly", "Helmert", "True", "False",
    "None", "and", "or", "not", "in",
}  # fmt: skip


@dataclass(frozen=True)
class RegressionResult(Result):
    """A fitted regression: overall test, coefficient table, fit statistics, diagnostics."""

    title: ClassVar[str] = "Regression"
    test: str
    formula: str
    cov_type: str
    statistic: float
    statistic_name: str
    p_value: float
    df: float
    df_resid: float | None
    effect_size: float
    effect_size_name: str
    n: dict[str, int]
    coefficients: tuple[dict[str, Any], ...]
    fit: dict[str, Any]
    diagnostics: dict[str, Any]
    confidence: float = 0.95
    assumptions: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "test": self.test,
                "formula": self.formula,
                "cov_type": self.cov_type,
                "statistic": self.statistic,
                "statistic_name": self.statistic_name,
                "p_value": self.p_value,
                "df": self.df,
                "df_resid": self.df_resid,
                "effect_size": self.effect_size,
                "effect_size_name": self.effect_size_name,
                "ci_lower": None,  # intervals are per coefficient, in ``coefficients``
                "ci_upper": None,
                "confidence": self.confidence,
                "n": dict(self.n),
                "coefficients": [dict(c) for c in self.coefficients],
                "fit": dict(self.fit),
                "diagnostics": dict(self.diagnostics),
                "assumptions": dict(self.assumptions),
                "warnings": list(self.warnings),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        head = ["test", "formula", "cov_type", "statistic_name", "statistic", "df", "df_resid"]
        head += ["p_value", "effect_size_name", "effect_size"]
        model = [(k, d[k]) for k in head if d[k] is not None]
        out: list[Section] = [
            KeyValue("Model", [*model, ("confidence", interval_label(self.confidence))]),
            KeyValue("Sample sizes", list(d["n"].items())),
            records_table("Coefficients", [_short(c) for c in d["coefficients"]]),
            KeyValue("Fit", list(d["fit"].items())),
        ]
        diagnostics = dict(d["diagnostics"])
        vifs = diagnostics.pop("vif", {})
        top = diagnostics.pop("most_influential", [])
        out.append(KeyValue("Diagnostics", list(diagnostics.items())))
        if vifs:
            out.append(KeyValue("Variance inflation factors", list(vifs.items())))
        if top:
            out.append(records_table("Most influential rows (Cook's distance)", top))
        if d["assumptions"]:
            out.append(KeyValue("Assumptions", list(d["assumptions"].items())))
        if d["warnings"]:
            out.append(Note("Warnings", d["warnings"]))
        return out


_SHORT = {"std_error": "se", "statistic": "z/t", "odds_ratio": "OR", "rate_ratio": "RR"}


def _short(row: dict[str, Any]) -> dict[str, Any]:
    """Coefficient-table row with compact headings for text and HTML."""
    out = {}
    for key, value in row.items():
        for long, short in _SHORT.items():
            key = key.replace(long, short)
        out[key.replace("_ci_lower", " low").replace("_ci_upper", " high")] = value
    return out


def regress(
    data: pd.DataFrame,
    formula: str,
    *,
    family: str = "ols",
    cov_type: str | None = None,
    cluster: str | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
    source: str = "data",
) -> RegressionResult:
    """Fit `formula` (patsy syntax) on `data` and check the fit.

    Args:
        data: The rows; rows with a missing value in a column the formula uses (or in
            `cluster`) are dropped and counted.
        formula: Patsy formula, e.g. `"y ~ x + C(segment)"`; `C(...)` makes a categorical.
        family: `ols` (default), `logit` (0/1 outcome) or `poisson` (counts).
        cov_type: Standard errors: `nonrobust`, `HC0`, `HC1`, `HC2`, `HC3` or `cluster`
            (logit and Poisson allow `nonrobust`, `HC0`, `cluster`). `None` chooses HC3 for
            OLS, HC0 for logit/Poisson, and `cluster` when `cluster` is given.
        cluster: Column whose values group the rows for cluster-robust errors.
        confidence: Coverage of the coefficients' intervals, in (0, 1).
        alpha: Level of the OLS residual tests (Jarque-Bera normality, Breusch-Pagan
            heteroskedasticity) that decide `assumptions` and their warnings.
        source: Name of the data in error messages.

    Returns:
        The overall test (F, or Wald F with robust errors, for OLS; the likelihood-ratio
            chi-square for logit/Poisson), R-squared or
            McFadden's pseudo R-squared, one row per coefficient with its interval (odds or
            rate ratios for logit/Poisson), fit statistics, diagnostics and warnings.

    Raises:
        ParameterError: An unknown `family` or `cov_type`.
        DataError: A column is missing, the outcome does not fit the family, or the design
            is singular.
    """
    family = _family(family)
    cov = _cov_type(family, cov_type, cluster)
    rows, dropped = _complete_rows(data, formula, cluster, source)
    model = _build(rows, formula, family, source, list(data.columns))
    _check_design(model, source)
    fitted, fit_warnings = _fit(model, family, cov, rows[cluster] if cluster else None)
    statistic, name, p, df, df_resid = _overall_test(fitted, family)
    exog = pd.DataFrame(model.exog, columns=model.exog_names, index=rows.index)
    diagnostics, assumptions, diag_warnings = _diagnose(fitted, family, cov, exog, alpha)
    warnings = _dropped_warning(dropped, len(data)) + fit_warnings + diag_warnings
    n = {"observations": int(fitted.nobs), "dropped_missing": dropped}
    if cluster:
        n["clusters"] = int(rows[cluster].nunique())
    return RegressionResult(
        test=family,
        formula=formula,
        cov_type=cov,
        statistic=statistic,
        statistic_name=name,
        p_value=p,
        df=df,
        df_resid=df_resid,
        effect_size=_r2(fitted, family),
        effect_size_name="R-squared" if family == "ols" else "McFadden pseudo R-squared",
        n=n,
        coefficients=_coefficients(fitted, family, confidence),
        fit=_fit_stats(fitted, family),
        diagnostics=diagnostics,
        confidence=confidence,
        assumptions=assumptions,
        warnings=tuple(warnings),
    )


def _family(family: str) -> str:
    if family not in FAMILIES:
        raise ParameterError(
            f"family == {family!r}, must be one of: {', '.join(FAMILIES)}", parameter="family"
        )
    return family


def _cov_type(family: str, cov_type: str | None, cluster: str | None) -> str:
    if cov_type is None:
        return "cluster" if cluster else ("HC3" if family == "ols" else "HC0")
    allowed = COV_TYPES if family == "ols" else GLM_COV_TYPES
    match = {c.lower(): c for c in COV_TYPES}.get(cov_type.lower())
    if match not in allowed:
        hint = (
            "statsmodels computes only HC0 sandwich errors for logit and Poisson."
            if match in COV_TYPES
            else None
        )
        raise ParameterError(
            f"cov_type == {cov_type!r}, must be one of: {', '.join(allowed)}",
            parameter="cov_type",
            hint=hint,
        )
    if match == "cluster" and not cluster:
        raise ParameterError(
            "cluster-robust errors need the cluster column",
            parameter="cluster",
            hint="Pass --cluster COLUMN (for example the user id).",
        )
    return str(match)


def formula_columns(formula: str, columns: list[str]) -> tuple[list[str], list[str]]:
    """(data columns the formula names, names it uses that are neither columns nor known)."""
    quoted = re.findall(r"Q\(\s*(['\"])(.*?)\1\s*\)", formula)
    text = re.sub(r"(['\"]).*?\1", " ", formula)
    known = set(columns)
    found = [name for _, name in quoted if name in known]
    unknown = [name for _, name in quoted if name not in known]
    for m in re.finditer(r"[A-Za-z_][\w.]*", text):
        token, rest = m.group(0), text[m.end() :].lstrip()
        is_call = rest.startswith("(")
        is_keyword = rest.startswith("=") and not rest.startswith("==")
        if token in known:
            found.append(token)
        elif not (is_call or is_keyword or "." in token or token in _FORMULA_NAMES):
            unknown.append(token)
    return list(dict.fromkeys(found)), list(dict.fromkeys(unknown))


def _complete_rows(
    data: pd.DataFrame, formula: str, cluster: str | None, source: str
) -> tuple[pd.DataFrame, int]:
    if "~" not in formula:
        raise ParameterError(
            "a formula needs an outcome, '~' and predictors",
            parameter="formula",
            found=repr(formula),
            expected="e.g. 'revenue ~ price + C(region)'",
        )
    check_formula(formula)  # patsy evaluates terms as Python: refuse code before it runs
    columns = [str(c) for c in data.columns]
    used, unknown = formula_columns(formula, columns)
    if unknown:
        raise missing_column_error(unknown[0], columns, source)
    if cluster:
        if cluster not in data.columns:
            raise missing_column_error(cluster, columns, source)
        used = list(dict.fromkeys([*used, cluster]))
    rows = data[used].dropna()
    text = [c for c in used if not pd.api.types.is_numeric_dtype(rows[c])]
    text = [c for c in text if not pd.api.types.is_bool_dtype(rows[c])]
    # patsy checks every string cell for NaN in Python; categoricals go through their codes
    rows = rows.astype(dict.fromkeys(text, "category"))
    return rows, len(data) - len(rows)


def _build(rows: pd.DataFrame, formula: str, family: str, source: str, columns: list[str]) -> Any:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    rows = _outcome_as_number(rows, formula, family, source)
    try:
        if family == "ols":
            return smf.ols(formula, rows, eval_env=eval_env())
        glm_family = sm.families.Binomial() if family == "logit" else sm.families.Poisson()
        model = smf.glm(formula, rows, family=glm_family, eval_env=eval_env())
    except Exception as exc:  # patsy reports formula errors as several exception types
        raise ParameterError(
            "the formula cannot be evaluated on this data",
            parameter="formula",
            found=str(exc).splitlines()[0],
            hint=f"Columns available: {', '.join(columns[:20])}.",
        ) from None
    _check_outcome(np.asarray(model.endog, dtype=float), family, formula, source)
    return model


def _outcome_as_number(rows: pd.DataFrame, formula: str, family: str, source: str) -> pd.DataFrame:
    outcome = formula.split("~", 1)[0].strip()
    if outcome not in rows.columns:
        return rows
    column = rows[outcome]
    if pd.api.types.is_bool_dtype(column):
        return rows.assign(**{outcome: column.astype(int)})
    if not pd.api.types.is_numeric_dtype(column):
        example = column.dropna().astype(str).unique()[:3]
        hint = (
            f"Make it 0/1 in the formula, e.g. I({outcome} == {example[0]!r}) ~ ..."
            if family == "logit" and len(example)
            else None
        )
        raise DataError(
            "the outcome must be numeric",
            source=source,
            column=outcome,
            found=f"values such as {', '.join(map(repr, example))}",
            hint=hint,
        )
    return rows


def _check_outcome(y: np.ndarray, family: str, formula: str, source: str) -> None:
    outcome = formula.split("~", 1)[0].strip()
    if y.ndim != 1:
        raise DataError(
            "the outcome expands to several columns",
            source=source,
            column=outcome,
            expected="one numeric column",
        )
    if family == "logit" and not np.isin(y, (0.0, 1.0)).all():
        bad = np.unique(y[~np.isin(y, (0.0, 1.0))])[:5]
        raise DataError(
            "a logistic regression needs a 0/1 outcome",
            source=source,
            column=outcome,
            found=f"values {', '.join(f'{v:g}' for v in bad)}",
            hint="Recode the outcome to 0/1, or use ols for a continuous outcome.",
        )
    if family == "poisson" and (y < 0).any():
        raise DataError(
            "a Poisson regression needs non-negative counts",
            source=source,
            column=outcome,
            found=f"minimum {y.min():g}",
        )


def _check_design(model: Any, source: str) -> None:
    exog = np.asarray(model.exog, dtype=float)
    n, k = exog.shape
    if n <= k:
        raise DataError(
            "too few complete rows for this model",
            source=source,
            found=f"{n} rows for {k} coefficients",
            expected="more rows than coefficients (ten per coefficient is a sensible floor)",
        )
    if np.linalg.matrix_rank(exog) < k:
        redundant = _redundant_columns(exog, list(model.exog_names))
        raise DataError(
            "the predictors are perfectly collinear, so their coefficients are not identified",
            source=source,
            found=f"{', '.join(redundant)} = a linear combination of earlier terms",
            hint="Drop the redundant term(s) from the formula.",
        )


def _redundant_columns(exog: np.ndarray, names: list[str]) -> list[str]:
    redundant: list[str] = []
    kept: list[int] = []
    for j, name in enumerate(names):
        if np.linalg.matrix_rank(exog[:, np.array([*kept, j])]) > len(kept):
            kept.append(j)
        else:
            redundant.append(name)
    return redundant


def _fit(model: Any, family: str, cov: str, groups: pd.Series | None) -> tuple[Any, list[str]]:
    kwargs: dict[str, Any] = {"cov_type": cov}
    if family != "ols":
        kwargs["tol"] = 1e-10  # IRLS stops on relative deviance change; 1e-8 leaves ~1e-6 in se
    if cov == "cluster":
        assert groups is not None
        kwargs["cov_kwds"] = {"groups": pd.factorize(groups)[0]}
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        fitted = model.fit(**kwargs)
    return fitted, _fit_warnings(caught, fitted, family)


def _fit_warnings(caught: list[Any], fitted: Any, family: str) -> list[str]:
    names = {w.category.__name__ for w in caught}
    out = []
    if "PerfectSeparationWarning" in names:
        out.append(
            "separation: some predictor (or combination) predicts the outcome perfectly, so "
            "its coefficient runs off to infinity and its p-value means nothing. Remove or "
            "merge that predictor, or use a penalized (Firth) logistic regression."
        )
    if family != "ols" and not getattr(fitted, "converged", True):
        out.append("the fit did not converge; the estimates are not reliable.")
    elif "ConvergenceWarning" in names and not out:
        out.append("statsmodels reported a convergence problem; check the estimates.")
    return out


def _overall_test(fitted: Any, family: str) -> tuple[float, str, float, float, float | None]:
    from scipy import stats

    if family == "ols":
        name = "F" if fitted.cov_type == "nonrobust" else f"Wald F ({fitted.cov_type})"
        f = float(fitted.fvalue) if fitted.df_model > 0 else float("nan")
        p = float(fitted.f_pvalue) if fitted.df_model > 0 else float("nan")
        return f, name, p, float(fitted.df_model), float(fitted.df_resid)
    lr = 2.0 * (float(fitted.llf) - float(fitted.llnull))
    df = float(fitted.df_model)
    p = float(stats.chi2.sf(lr, df)) if df > 0 else float("nan")
    return lr, "likelihood-ratio chi2", p, df, None


def _r2(fitted: Any, family: str) -> float:
    if family == "ols":
        return float(fitted.rsquared)
    return float(fitted.pseudo_rsquared(kind="mcf"))


def _coefficients(fitted: Any, family: str, confidence: float) -> tuple[dict[str, Any], ...]:
    ci = np.asarray(fitted.conf_int(alpha=1 - confidence), dtype=float)
    ratio = {"logit": "odds_ratio", "poisson": "rate_ratio"}.get(family)
    rows = []
    for i, name in enumerate(fitted.model.exog_names):
        row: dict[str, Any] = {
            "term": name,
            "estimate": float(fitted.params.iloc[i]),
            "std_error": float(fitted.bse.iloc[i]),
            "statistic": float(fitted.tvalues.iloc[i]),
            "p_value": float(fitted.pvalues.iloc[i]),
            "ci_lower": float(ci[i, 0]),
            "ci_upper": float(ci[i, 1]),
        }
        if ratio:
            row[ratio] = float(np.exp(row["estimate"]))
            row[f"{ratio}_ci_lower"] = float(np.exp(ci[i, 0]))
            row[f"{ratio}_ci_upper"] = float(np.exp(ci[i, 1]))
        rows.append(row)
    return tuple(rows)


def _fit_stats(fitted: Any, family: str) -> dict[str, Any]:
    common = {"log_likelihood": float(fitted.llf), "aic": float(fitted.aic)}
    if family == "ols":
        return {
            "r_squared": float(fitted.rsquared),
            "adj_r_squared": float(fitted.rsquared_adj),
            "residual_std_error": float(np.sqrt(fitted.mse_resid)),
            **common,
            "bic": float(fitted.bic),
        }
    return {
        "mcfadden_r_squared": float(fitted.pseudo_rsquared(kind="mcf")),
        **common,
        "bic": float(fitted.bic_llf),
        "null_log_likelihood": float(fitted.llnull),
        "deviance": float(fitted.deviance),
        "null_deviance": float(fitted.null_deviance),
        "df_resid": float(fitted.df_resid),
        "pearson_chi2": float(fitted.pearson_chi2),
        "converged": bool(fitted.converged),
    }


def _diagnose(
    fitted: Any, family: str, cov: str, exog: pd.DataFrame, alpha: float
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    collinear, warnings = diag.collinearity(exog)
    influence, influence_warnings = diag.influence(fitted, exog.index)
    diagnostics = {**collinear, **influence}
    assumptions: dict[str, Any] = {
        "no_severe_collinearity": not warnings,
        "no_highly_influential_points": not influence_warnings,
    }
    warnings += influence_warnings
    if family == "ols":
        resid = np.asarray(fitted.resid, dtype=float)
        normal = diag.residual_normality(resid)
        het = diag.heteroskedasticity(resid, exog)
        diagnostics.update({**normal, **het})
        assumptions["normal_residuals"] = normal["jarque_bera_p_value"] >= alpha
        if het:
            homoskedastic = het["breusch_pagan_p_value"] >= alpha
            assumptions["constant_error_variance"] = homoskedastic
            if not homoskedastic and cov == "nonrobust":
                warnings.append(
                    f"heteroskedasticity: Breusch-Pagan p = {het['breusch_pagan_p_value']:.3g}, "
                    "so the classical standard errors are wrong; use --cov-type HC3."
                )
        if not assumptions["normal_residuals"] and fitted.df_resid < 30:
            warnings.append(
                "the residuals are not normal and there are fewer than 30 residual degrees "
                "of freedom, so the t-based p-values and intervals are approximate."
            )
    elif family == "poisson":
        ratio, more = diag.overdispersion(float(fitted.pearson_chi2), float(fitted.df_resid))
        diagnostics["dispersion"] = ratio
        assumptions["no_overdispersion"] = not more
        warnings += more
        y = np.asarray(fitted.model.endog, dtype=float)
        if not np.allclose(y, np.round(y)):
            warnings.append(
                "the outcome has non-integer values: this is a quasi-Poisson (pseudo-"
                "likelihood) fit; the robust standard errors remain valid, AIC does not."
            )
    else:
        y = np.asarray(fitted.model.endog, dtype=float)
        epv, more = diag.events_per_variable(y, int(fitted.df_model))
        diagnostics["events_per_predictor"] = epv
        assumptions["enough_events_per_predictor"] = not more
        warnings += more
    return diagnostics, assumptions, warnings


def _dropped_warning(dropped: int, total: int) -> list[str]:
    if not dropped:
        return []
    return [
        f"dropped {dropped} of {total} rows with a missing value in a column the formula "
        "uses; if missingness is related to the outcome the estimates are biased."
    ]
