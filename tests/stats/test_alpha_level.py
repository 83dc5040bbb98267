"""``--alpha`` (``StatsSpec.alpha``) sets the level of every interval ``sds stats`` reports.

Each test is run through ``sds.stats.run`` at alpha 0.10 and 0.01 and its intervals are
checked against an independent reference at ``1 - alpha``:

- t-tests: scipy ``ttest_ind`` / ``ttest_rel`` / ``ttest_1samp(...).confidence_interval``;
- two proportions: statsmodels ``confint_proportions_2indep(method="wald")`` (the counts here
  are not small, so sds takes the z branch); risk and odds ratios: scipy ``relative_risk`` and
  ``odds_ratio(kind="sample")``;
- correlations: scipy ``pearsonr(...).confidence_interval``, pingouin ``compute_esci`` for
  Spearman, the Fieller-Hartley-Pearson formula for Kendall;
- regressions: statsmodels' array models ``conf_int(alpha)``;
- effect sizes: pingouin ``compute_esci`` (Cohen's d, d_z, Hedges' g), the published formulas
  (Glass's delta, Cohen's h, rank-biserial), statsmodels ``proportion_confint(method="beta")``
  (the sign test's share), and the inversion of the non-central distributions (eta squared,
  Cramér's V / phi, the conditional odds ratio of Fisher's test, the Games-Howell range);
- post-hoc: statsmodels ``pairwise_tukeyhsd(alpha=...)``.

Then every test kind in the runner's dispatch table is run at both levels: a kind that
reports any interval must state ``confidence == 1 - alpha``, name the level in its text
("90% CI") and give narrower intervals at 0.10 than at 0.01. A new kind without a case here
fails.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from scipy import stats
from scipy.stats.contingency import odds_ratio, relative_risk
from statsmodels.stats.multicomp import pairwise_tukeyhsd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from sds.stats import StatsSpec, run
from sds.stats.result import TestResult
from sds.stats.runner import TESTS
from tests.conftest import invoke

ALPHAS = [0.10, 0.01]
REF = 1e-10  # closed-form references
ROOT_TOL = 1e-7  # limits found by a root finder (xtol 1e-10) or two optimizers
N = 120


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(20261201)
    group = np.repeat(["control", "treatment"], N // 2)
    treated = group == "treatment"
    before = rng.normal(50, 5, N)
    g3 = np.tile(["a", "b", "c"], N // 3)
    y = rng.normal(10, 2, N) + 0.8 * treated
    x = 0.5 * y + rng.normal(0, 1.5, N)
    return pd.DataFrame(
        {
            "group": group,
            "y": y,
            "x": x,
            "before": before,
            "after": before + rng.normal(1.0, 3, N),
            "g3": g3,
            "y3": rng.normal(0, 1, N) * np.where(g3 == "c", 2.0, 1.0) + (g3 == "b") * 0.6,
            "converted": (rng.random(N) < np.where(treated, 0.45, 0.3)).astype(int),
            "count": rng.poisson(np.exp(0.2 + 0.1 * (x - x.mean()))),
        }
    )


DF = _frame()
TREATMENT = DF.y[DF.group == "treatment"].to_numpy()
CONTROL = DF.y[DF.group == "control"].to_numpy()


def _run(test: str, alpha: float, **fields: Any) -> Any:
    return run(DF, StatsSpec(test, alpha=alpha, **fields))


def _interval(lo: float | None, hi: float | None) -> tuple[float, float]:
    assert lo is not None and hi is not None
    return lo, hi


def _z(alpha: float) -> float:
    return float(stats.norm.isf(alpha / 2))


# ---------------------------------------------------------------- t-tests and their effect sizes


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("test", ["ttest", "welch", "student"])
def test_two_sample_t_intervals_follow_alpha(test: str, alpha: float) -> None:
    res = _run(test, alpha, value="y", group="group")
    level = 1 - alpha
    assert res.confidence == level
    ref = stats.ttest_ind(TREATMENT, CONTROL, equal_var=test == "student")
    ci = ref.confidence_interval(confidence_level=level)
    assert _interval(res.ci_lower, res.ci_upper) == pytest.approx((ci.low, ci.high), rel=REF)
    nt, nc = len(TREATMENT), len(CONTROL)
    d = pg.compute_effsize(TREATMENT, CONTROL, eftype="cohen")
    d_ci = pg.compute_esci(d, nt, nc, eftype="cohen", confidence=level, decimals=12)
    assert res.effect_size == pytest.approx(d, rel=REF)
    assert (res.effect_size_ci_lower, res.effect_size_ci_upper) == pytest.approx(d_ci, rel=1e-9)
    g, g_lo, g_hi = res.other_effect_sizes["hedges_g"]
    g_ci = pg.compute_esci(g, nt, nc, eftype="cohen", confidence=level, decimals=12)
    assert (g_lo, g_hi) == pytest.approx(g_ci, rel=1e-9)
    delta, lo, hi = res.other_effect_sizes["glass_delta"]  # Algina, Keselman & Penfield (2006)
    ratio = np.var(TREATMENT, ddof=1) / np.var(CONTROL, ddof=1)
    se = math.sqrt(ratio / nt + 1 / nc + delta**2 / (2 * (nc - 1)))
    assert (lo, hi) == pytest.approx((delta - _z(alpha) * se, delta + _z(alpha) * se), rel=REF)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_paired_t_interval_follows_alpha(alpha: float) -> None:
    res = _run("paired", alpha, value="before,after")
    treatment, control = res.assumptions["treatment"], res.assumptions["control"]
    x, y = DF[treatment].to_numpy(), DF[control].to_numpy()
    ci = stats.ttest_rel(x, y).confidence_interval(confidence_level=1 - alpha)
    assert res.confidence == 1 - alpha
    assert _interval(res.ci_lower, res.ci_upper) == pytest.approx((ci.low, ci.high), rel=REF)
    dz = np.mean(x - y) / np.std(x - y, ddof=1)
    ref = pg.compute_esci(dz, N, N, paired=True, eftype="cohen", confidence=1 - alpha, decimals=12)
    assert (res.effect_size_ci_lower, res.effect_size_ci_upper) == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_one_sample_t_interval_follows_alpha(alpha: float) -> None:
    mu = 9.5
    res = _run("one-sample", alpha, value="y", mu=mu)
    ci = stats.ttest_1samp(DF.y, mu).confidence_interval(confidence_level=1 - alpha)
    assert res.confidence == 1 - alpha
    expected = (ci.low - mu, ci.high - mu)
    assert _interval(res.ci_lower, res.ci_upper) == pytest.approx(expected, rel=REF)
    d = (DF.y.mean() - mu) / DF.y.std(ddof=1)
    ref = pg.compute_esci(d, N, N, paired=True, eftype="cohen", confidence=1 - alpha, decimals=12)
    assert (res.effect_size_ci_lower, res.effect_size_ci_upper) == pytest.approx(ref, rel=1e-9)


# ---------------------------------------------------------------- rank and sign tests


@pytest.mark.parametrize("alpha", ALPHAS)
def test_rank_and_sign_intervals_follow_alpha(alpha: float) -> None:
    mw = _run("mannwhitney", alpha, value="y", group="group")
    r, nt, nc = mw.effect_size, len(TREATMENT), len(CONTROL)
    se = math.sqrt((nt + nc + 1) / (3 * nt * nc))
    expected = (
        math.tanh(math.atanh(r) - _z(alpha) * se),
        math.tanh(math.atanh(r) + _z(alpha) * se),
    )
    assert (mw.effect_size_ci_lower, mw.effect_size_ci_upper) == pytest.approx(expected, rel=REF)

    wx = _run("wilcoxon", alpha, value="before,after")
    n = wx.n["nonzero"]
    se = math.sqrt(n * (n + 1) * (2 * n + 1) / 6) / (n * (n + 1) / 2)
    r = wx.effect_size
    expected = (
        math.tanh(math.atanh(r) - _z(alpha) * se),
        math.tanh(math.atanh(r) + _z(alpha) * se),
    )
    assert (wx.effect_size_ci_lower, wx.effect_size_ci_upper) == pytest.approx(expected, rel=REF)

    sign = _run("sign", alpha, value="before,after")
    pos, neg = sign.assumptions["positive"], sign.assumptions["negative"]
    ref = proportion_confint(pos, pos + neg, alpha=alpha, method="beta")
    assert (sign.effect_size_ci_lower, sign.effect_size_ci_upper) == pytest.approx(ref, rel=1e-9)
    for res in (mw, wx, sign):
        assert res.confidence == 1 - alpha


# ---------------------------------------------------------------- proportions and counts


def _counts() -> tuple[int, int, int, int]:
    t = DF.converted[DF.group == "treatment"]
    c = DF.converted[DF.group == "control"]
    return int(t.sum()), len(t), int(c.sum()), len(c)


def _ratios_match(res: TestResult, alpha: float) -> None:
    xt, nt, xc, nc = _counts()
    rr = relative_risk(xt, nt, xc, nc).confidence_interval(1 - alpha)
    orr = odds_ratio([[xt, nt - xt], [xc, nc - xc]], kind="sample").confidence_interval(1 - alpha)
    assert res.other_effect_sizes["risk_ratio"][1:] == pytest.approx((rr.low, rr.high), rel=REF)
    assert res.other_effect_sizes["odds_ratio"][1:] == pytest.approx((orr.low, orr.high), rel=REF)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_two_proportion_intervals_follow_alpha(alpha: float) -> None:
    res = _run("ztest", alpha, value="converted", group="group")
    xt, nt, xc, nc = _counts()
    assert min(xt, nt - xt, xc, nc - xc) >= 5 and res.test == "Two-proportion z-test"
    ref = confint_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff", alpha=alpha)
    assert res.confidence == 1 - alpha
    assert _interval(res.ci_lower, res.ci_upper) == pytest.approx(ref, rel=REF)
    h = 2 * math.asin(math.sqrt(xt / nt)) - 2 * math.asin(math.sqrt(xc / nc))
    half = _z(alpha) * math.sqrt(1 / nt + 1 / nc)
    got = (res.effect_size_ci_lower, res.effect_size_ci_upper)
    assert got == pytest.approx((h - half, h + half), rel=REF)
    _ratios_match(res, alpha)


def _ncx2_tail(table: np.ndarray, v: float) -> float:
    chi2 = stats.chi2_contingency(table, correction=False).statistic
    n, df = table.sum(), (table.shape[0] - 1) * (table.shape[1] - 1)
    return float(stats.ncx2.cdf(chi2, df, v**2 * n * (min(table.shape) - 1) - df))


@pytest.mark.parametrize("alpha", ALPHAS)
def test_chi_square_and_fisher_intervals_follow_alpha(alpha: float) -> None:
    xt, nt, xc, nc = _counts()
    table = np.array([[xt, nt - xt], [xc, nc - xc]], dtype=float)
    chi2 = _run("chi2", alpha, value="converted", group="group")
    assert chi2.confidence == 1 - alpha
    # phi's limits: the non-centralities that put the statistic at the 1 - a/2 and a/2 tails
    if chi2.effect_size_ci_lower > 0:
        lower = _ncx2_tail(table, chi2.effect_size_ci_lower)
        assert lower == pytest.approx(1 - alpha / 2, abs=1e-8)
    else:  # even the central law puts the statistic below its 1 - a/2 quantile
        statistic = stats.chi2_contingency(table, correction=False).statistic
        assert stats.chi2.cdf(statistic, 1) <= 1 - alpha / 2
    assert _ncx2_tail(table, chi2.effect_size_ci_upper) == pytest.approx(alpha / 2, abs=1e-8)
    _ratios_match(chi2, alpha)

    fisher = _run("fisher", alpha, value="converted", group="group")
    assert fisher.confidence == 1 - alpha
    # the conditional odds ratio's exact limits: each tail of Fisher's non-central
    # hypergeometric law of the first cell is alpha / 2 there
    total, first_column, first_row = int(table.sum()), xt + xc, nt
    lo, hi = _interval(fisher.ci_lower, fisher.ci_upper)
    upper_tail = stats.nchypergeom_fisher(total, first_column, first_row, lo).sf(xt - 1)
    lower_tail = stats.nchypergeom_fisher(total, first_column, first_row, hi).cdf(xt)
    assert (upper_tail, lower_tail) == pytest.approx((alpha / 2, alpha / 2), rel=1e-6)
    _ratios_match(fisher, alpha)


# ---------------------------------------------------------------- correlations


@pytest.mark.parametrize("alpha", ALPHAS)
def test_correlation_intervals_follow_alpha(alpha: float) -> None:
    pearson = _run("pearson", alpha, value="y,x")
    ci = stats.pearsonr(DF.y, DF.x).confidence_interval(confidence_level=1 - alpha)
    assert _interval(pearson.ci_lower, pearson.ci_upper) == pytest.approx(
        (ci.low, ci.high), rel=REF
    )
    spearman = _run("spearman", alpha, value="y,x")
    ref = pg.compute_esci(spearman.statistic, N, N, eftype="r", confidence=1 - alpha, decimals=12)
    assert (spearman.ci_lower, spearman.ci_upper) == pytest.approx(ref, rel=1e-9)
    kendall = _run("kendall", alpha, value="y,x")
    se = math.sqrt(0.437 / (N - 4))  # Fieller, Hartley & Pearson (1957)
    z = math.atanh(kendall.statistic)
    expected = (math.tanh(z - _z(alpha) * se), math.tanh(z + _z(alpha) * se))
    assert (kendall.ci_lower, kendall.ci_upper) == pytest.approx(expected, rel=REF)
    for res in (pearson, spearman, kendall):
        assert res.confidence == 1 - alpha


# ---------------------------------------------------------------- several groups


def _eta_tail(f: float, df1: float, df2: float, eta: float) -> float:
    ncp = (df1 + df2 + 1) * eta / (1 - eta)
    return float(stats.ncf.cdf(f, df1, df2, ncp))


@pytest.mark.parametrize("alpha", ALPHAS)
def test_anova_and_posthoc_intervals_follow_alpha(alpha: float) -> None:
    anova = _run("tukey", alpha, value="y3", group="g3")
    df1, df2 = anova.df, anova.assumptions["df_within"]
    assert anova.confidence == 1 - alpha
    upper = _eta_tail(anova.statistic, df1, df2, anova.effect_size_ci_upper)
    assert upper == pytest.approx(alpha / 2, abs=1e-8)
    if anova.effect_size_ci_lower > 0:
        lower = _eta_tail(anova.statistic, df1, df2, anova.effect_size_ci_lower)
        assert lower == pytest.approx(1 - alpha / 2, abs=1e-8)
    ref = pairwise_tukeyhsd(DF.y3, DF.g3, alpha=alpha)  # pairs a-b, a-c, b-c; meandiff = b - a
    for row, (lo, hi) in zip(anova.comparisons, ref.confint, strict=True):
        assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((-hi, -lo), rel=1e-8)

    welch = _run("games-howell", alpha, value="y3", group="g3")
    assert welch.confidence == 1 - alpha and len(welch.comparisons) == 3
    for row in welch.comparisons:  # half width / se is the studentized range at 1 - alpha
        se = abs(row["difference"] / row["t"])
        q = math.sqrt(2) * (row["ci_upper"] - row["ci_lower"]) / 2 / se
        assert stats.studentized_range.cdf(q, 3, row["df"]) == pytest.approx(1 - alpha, abs=1e-8)


# ---------------------------------------------------------------- regressions


@pytest.mark.parametrize("alpha", ALPHAS)
def test_regression_intervals_follow_alpha(alpha: float) -> None:
    ols = _run("ols", alpha, formula="y ~ x + before")
    ref = sm.OLS(DF.y, sm.add_constant(DF[["x", "before"]])).fit(cov_type="HC3").conf_int(alpha)
    got = [(r["ci_lower"], r["ci_upper"]) for r in ols.coefficients]
    assert ols.confidence == 1 - alpha
    np.testing.assert_allclose(got, ref.to_numpy(), rtol=REF)
    for family, outcome, model in (
        ("logit", "converted", sm.Logit),
        ("poisson", "count", sm.Poisson),
    ):
        res = _run(family, alpha, formula=f"{outcome} ~ x")
        fit = model(DF[outcome], sm.add_constant(DF[["x"]])).fit(
            disp=0, cov_type="HC0", tol=1e-12, maxiter=200
        )
        ci = fit.conf_int(alpha).to_numpy()
        got = [(r["ci_lower"], r["ci_upper"]) for r in res.coefficients]
        np.testing.assert_allclose(got, ci, rtol=ROOT_TOL)  # IRLS against Newton
        ratio = "odds_ratio" if family == "logit" else "rate_ratio"
        got = [(r[f"{ratio}_ci_lower"], r[f"{ratio}_ci_upper"]) for r in res.coefficients]
        np.testing.assert_allclose(got, np.exp(ci), rtol=ROOT_TOL)
        assert res.confidence == 1 - alpha


# ---------------------------------------------------------------- --by, auto and the CLI


@pytest.mark.parametrize("alpha", ALPHAS)
def test_by_levels_follow_alpha(alpha: float) -> None:
    res = _run("welch", alpha, value="y", group="group", by="g3")
    assert res.confidence == 1 - alpha
    assert f"{100 * (1 - alpha):g}% CI" in res.to_text()
    for row in res.rows:
        part = DF[DF.g3 == row["level"]]
        t = part.y[part.group == "treatment"]
        c = part.y[part.group == "control"]
        ci = stats.ttest_ind(t, c, equal_var=False).confidence_interval(1 - alpha)
        assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((ci.low, ci.high), rel=REF)
    assert all(r["confidence"] == 1 - alpha for r in res.results)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_auto_follows_alpha(alpha: float) -> None:
    res = _run("auto", alpha, value="y", group="group")
    assert res.test.startswith("Welch t-test"), res.reasons
    ci = stats.ttest_ind(TREATMENT, CONTROL, equal_var=False).confidence_interval(1 - alpha)
    assert res.confidence == 1 - alpha
    assert _interval(res.ci_lower, res.ci_upper) == pytest.approx((ci.low, ci.high), rel=REF)


def test_cli_alpha_sets_the_interval_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "ab.csv"
    DF.to_csv(path, index=False)
    args = ["stats", "welch", "--data", str(path), "--value", "y", "--group", "group"]
    out = invoke([*args, "--alpha", "0.1", "-f", "json"])
    assert out.exit_code == 0, out.stderr
    body = json.loads(out.stdout)
    read = pd.read_csv(path)
    t, c = (read.y[read.group == g] for g in ("treatment", "control"))
    ci = stats.ttest_ind(t, c, equal_var=False).confidence_interval(0.9)
    assert body["confidence"] == pytest.approx(0.9, abs=1e-15)
    assert (body["ci_lower"], body["ci_upper"]) == pytest.approx((ci.low, ci.high), rel=REF)
    text = invoke([*args, "--alpha", "0.1"])
    assert text.exit_code == 0 and "90% CI" in text.stdout and "95% CI" not in text.stdout
    assert "95% CI" in invoke(args).stdout


# ---------------------------------------------------------------- every kind in the table

CASES: dict[str, dict[str, Any]] = {
    **{t: {"value": "y", "group": "group"} for t in ("ttest", "welch", "student", "mannwhitney")},
    **{t: {"value": "before,after"} for t in ("paired", "wilcoxon", "sign")},
    "one-sample": {"value": "y", "mu": 9.5},
    **{
        t: {"value": "y3", "group": "g3"}
        for t in ("anova", "welch-anova", "kruskal", "tukey", "games-howell")
    },
    **{t: {"value": "y3", "group": "g3"} for t in ("levene", "brown-forsythe")},
    **{t: {"value": "converted", "group": "group"} for t in ("chi2", "fisher", "ztest")},
    **{t: {"value": "y,x"} for t in ("pearson", "spearman", "kendall")},
    **{t: {"value": "y"} for t in ("shapiro", "anderson", "dagostino", "ks")},
    "ols": {"formula": "y ~ x + before"},
    "logit": {"formula": "converted ~ x"},
    "poisson": {"formula": "count ~ x"},
    "auto": {"value": "y", "group": "group"},
}
# Kinds that report no interval at all (tests of fit or variance, H with epsilon squared).
NO_INTERVAL = {"kruskal", "levene", "brown-forsythe", "shapiro", "anderson", "dagostino", "ks"}


def _intervals(record: Any, path: str = "") -> Iterator[tuple[str, float, float]]:
    """Every (lower, upper) pair anywhere in a ``to_dict()`` record, by where it sits."""
    if isinstance(record, dict):
        for key, value in record.items():
            if key.endswith("ci_lower") and value is not None:
                upper = record.get(key[: -len("lower")] + "upper")
                if upper is not None:
                    yield f"{path}.{key}", float(value), float(upper)
            yield from _intervals(value, f"{path}.{key}")
    elif isinstance(record, list):
        for i, item in enumerate(record):
            yield from _intervals(item, f"{path}[{i}]")


def test_every_kind_has_a_case() -> None:
    assert set(CASES) == set(TESTS)


@pytest.mark.parametrize("test", sorted(CASES))
def test_every_interval_follows_alpha(test: str) -> None:
    wide, narrow = (_run(test, alpha, **CASES[test]) for alpha in (0.01, 0.10))
    found = {where: (lo, hi) for where, lo, hi in _intervals(wide.to_dict())}
    if test in NO_INTERVAL:
        assert not found, f"{test} now reports intervals: drop it from NO_INTERVAL"
        return
    assert found, f"{test} reports no interval"
    assert (wide.confidence, narrow.confidence) == (0.99, 0.9)
    assert "99% CI" in wide.to_text() and "90% CI" in narrow.to_text()
    for where, lo, hi in _intervals(narrow.to_dict()):
        w_lo, w_hi = found[where]
        assert w_lo <= lo and hi <= w_hi and hi - lo < w_hi - w_lo, (where, (lo, hi), (w_lo, w_hi))
