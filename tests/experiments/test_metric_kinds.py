"""Metric kinds as classes: one class per kind, a registry, and no ``type == "..."`` switch.

A new kind is one class: :class:`Variance` below (the spread of a metric, compared by the F
test of two variances) is defined and registered here, in the test, and runs end to end
through ``sds.analyze`` (engine moments, effects, segments, p-value adjustment, verdict,
report) with no edit anywhere else. Its figures are checked against numpy's sample variances
and scipy's F distribution; the built-in kinds against statsmodels and scipy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

import sds
from sds.errors import ParameterError
from sds.experiments.analysis import kinds
from sds.experiments.analysis.kinds import Metric, MetricKind, Options
from sds.experiments.analysis.moments import Moments, from_arrays
from sds.experiments.analysis.records import CONTRAST, Comparison, RelativeEffect
from sds.experiments.analysis.spec import MetricSpec
from sds.stats.estimate import Estimate

TOL = 1e-9
SRC = Path(__file__).resolve().parents[2] / "src" / "sds"
TYPE_SWITCH = re.compile(
    r"""\.type\s*(==|!=)\s*["']|\.type\s+(not\s+)?in\s*[(\[{]\s*["']|["']\s*(==|!=)\s*\w+\.type\b"""
)


class Variance(MetricKind):
    """Toy kind: does the treatment change the spread of a metric? F test of two variances,
    from the engine's moments (no unit-level read)."""

    name: ClassVar[str] = "variance"
    novelty: ClassVar[bool] = False
    sequential: ClassVar[bool] = False

    def compare(
        self, metric: Metric, control: Moments, treatment: Moments, options: Options
    ) -> Comparison:
        assert metric.column is not None
        vc, vt = control.var(metric.column), treatment.var(metric.column)
        dft, dfc = treatment.n - 1, control.n - 1
        ratio = vt / vc
        p = 2 * min(stats.f.cdf(ratio, dft, dfc), stats.f.sf(ratio, dft, dfc))
        low = ratio / stats.f.isf(options.alpha / 2, dft, dfc)
        high = ratio / stats.f.ppf(options.alpha / 2, dft, dfc)
        method = "F test of two variances"
        estimate = Estimate(
            vt - vc, None, None, None, p, 1 - options.alpha, method, CONTRAST, ratio
        )
        relative = RelativeEffect(ratio - 1, low - 1, high - 1)
        return Comparison(vc, vt, int(control.n), int(treatment.n), estimate, relative)


@pytest.fixture
def variance_kind() -> Iterator[MetricKind]:
    kind = kinds.register(Variance())
    yield kind
    kinds.unregister(kind.name)


def _table(n: int = 4000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["control", "treatment"], n)
    spread = np.where(arm == "treatment", 1.3, 1.0)
    return pd.DataFrame(
        {
            "u": np.arange(n),
            "v": arm,
            "day": pd.Timestamp("2026-04-01") + pd.to_timedelta(rng.integers(0, 5, n), "D"),
            "platform": rng.choice(["ios", "web"], n),
            "latency": 200 + 30 * spread * rng.standard_normal(n),
        }
    )


def _f_test(c: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """numpy's sample variances and scipy's two-sided F test of their ratio."""
    vc, vt = np.var(c, ddof=1), np.var(t, ddof=1)
    f = vt / vc
    dist = stats.f(len(t) - 1, len(c) - 1)
    return vc, vt, 2 * min(dist.cdf(f), dist.sf(f))


def test_no_module_switches_on_a_metric_type_string() -> None:
    """Every question that depends on a metric's kind is asked of its kind object."""
    assert TYPE_SWITCH.search('if metric.type == "ratio":')  # the pattern finds a switch
    assert TYPE_SWITCH.search("if m.type not in ('quantile', 'mean'):")
    offenders = []
    for folder in ("experiments", "cli"):
        for path in sorted((SRC / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if TYPE_SWITCH.search(line):
                    offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []


def test_a_new_kind_is_one_class_and_runs_end_to_end(variance_kind: MetricKind) -> None:
    df = _table()
    spec = {
        "unit": "u",
        "variant": "v",
        "control": "control",
        "date": "day",
        "segments": ["platform"],
        "metrics": [
            {"name": "latency_spread", "type": "variance", "column": "latency"},
            {"name": "latency", "type": "mean", "column": "latency"},
        ],
    }
    result = sds.analyze(df, spec)
    row = result.effect("latency_spread")
    c = df.loc[df["v"] == "control", "latency"].to_numpy()
    t = df.loc[df["v"] == "treatment", "latency"].to_numpy()
    vc, vt, p = _f_test(c, t)
    assert row.type == "variance" and row.method == "F test of two variances"
    assert (row.comparison.control, row.comparison.treatment) == pytest.approx((vc, vt), rel=TOL)
    assert row.effect == pytest.approx(vt - vc, rel=TOL)
    assert row.p_value == pytest.approx(p, rel=1e-8)
    assert row.rel_ci_lower < vt / vc - 1 < row.rel_ci_upper
    assert result.verdict == "ship" and row.p_adjusted is not None and row.p_adjusted < 1e-6
    # the kind's flags decide which checks run: segments yes, novelty and sequential no
    d = json.loads(result.to_json())
    seg = [r for r in d["segments"]["platform"]["effects"] if r["metric"] == "latency_spread"]
    for r in seg:
        part = df[df["platform"] == r["level"]]
        vc, vt, p = _f_test(
            part.loc[part["v"] == "control", "latency"].to_numpy(),
            part.loc[part["v"] == "treatment", "latency"].to_numpy(),
        )
        assert (r["effect"], r["p_value"]) == pytest.approx((vt - vc, p), rel=1e-8)
    assert d["novelty"] == {"checked": False, "reason": "the primary metric is a variance"}
    assert d["cumulative"] == {}
    assert "latency_spread: F test of two variances" in result.to_text()


def test_an_unknown_type_names_the_registered_kinds(variance_kind: MetricKind) -> None:
    with pytest.raises(ParameterError) as caught:
        MetricSpec(name="x", type="varaince", column="y")
    message = str(caught.value)
    assert "proportion, mean, ratio, quantile, variance" in message
    assert "did you mean 'variance'?" in message


def test_unregistered_kinds_are_refused() -> None:
    assert kinds.names() == ("proportion", "mean", "ratio", "quantile")
    with pytest.raises(ParameterError, match="type == 'variance', must be one of"):
        MetricSpec(name="x", type="variance", column="y")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "ratio", "numerator": "a"}, "a ratio metric needs numerator and denominator"),
        (
            {"type": "ratio", "numerator": "a", "denominator": "b", "numerator_covariate": "c"},
            "give both numerator_covariate and denominator_covariate",
        ),
        ({"type": "mean"}, "a mean metric needs column"),
        ({"type": "quantile", "column": "a"}, "a quantile metric needs q"),
        ({"type": "proportion", "column": "a", "covariate": "b"}, "covariate (CUPED) applies"),
    ],
)
def test_each_kind_validates_what_it_needs(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ParameterError, match=re.escape(message)):
        MetricSpec(name="m", **fields)  # type: ignore[arg-type]


def test_kind_flags_and_columns() -> None:
    ratio = MetricSpec(
        name="r",
        type="ratio",
        numerator="orders",
        denominator="sessions",
        numerator_covariate="pre_orders",
        denominator_covariate="pre_sessions",
    )
    p90 = MetricSpec(name="q", type="quantile", column="latency", q=0.9)
    conv = MetricSpec(name="c", type="proportion", column="converted")
    assert ratio.kind.outcomes(ratio) == ["orders", "sessions"]
    assert ratio.kind.covariates(ratio) == ["pre_orders", "pre_sessions"]
    assert ratio.kind.denominators(ratio) == ["sessions", "pre_sessions"]
    assert (p90.kind.outcomes(p90), p90.kind.values_column(p90)) == ([], "latency")
    assert conv.kind.binary and not ratio.kind.binary
    flags = {
        k: (kinds.get(k).cuped, kinds.get(k).segments, kinds.get(k).sequential)
        for k in kinds.names()
    }
    assert flags == {
        "proportion": (False, True, True),
        "mean": (True, True, True),
        "ratio": (True, True, True),
        "quantile": (False, False, False),
    }


def test_built_in_kinds_compare_like_the_references() -> None:
    rng = np.random.default_rng(3)
    yc, yt = (rng.random(3000) < 0.11).astype(float), (rng.random(3100) < 0.13).astype(float)
    conv = MetricSpec(name="c", type="proportion", column="y")
    row = conv.kind.compare(conv, from_arrays({"y": yc}), from_arrays({"y": yt}), Options())
    xc, xt = int(yc.sum()), int(yt.sum())
    z, p = proportions_ztest([xt, xc], [len(yt), len(yc)])
    low, high = confint_proportions_2indep(xt, len(yt), xc, len(yc), method="wald")
    assert (row.statistic, row.p_value) == pytest.approx((z, p), rel=TOL)
    assert (row.ci_lower, row.ci_upper) == pytest.approx((low, high), rel=TOL)
    assert row.estimate.level == 0.95 and row.estimate.contrast == "treatment - control"

    mc, mt = rng.gamma(2, 5, 800), rng.gamma(2, 5.5, 900)
    mean = MetricSpec(name="m", type="mean", column="y")
    row = mean.kind.compare(mean, from_arrays({"y": mc}), from_arrays({"y": mt}), Options(0.1))
    ref = stats.ttest_ind(mt, mc, equal_var=False)
    ci = ref.confidence_interval(0.9)
    assert (row.p_value, row.estimate.df) == pytest.approx((ref.pvalue, ref.df), rel=TOL)
    assert (row.ci_lower, row.ci_upper) == pytest.approx((ci.low, ci.high), rel=TOL)
    assert row.estimate.level == pytest.approx(0.9)

    p90 = MetricSpec(name="q", type="quantile", column="y", q=0.9)
    row = p90.kind.compare_values(p90, mc, mt, Options(resamples=200))
    assert row.effect == pytest.approx(np.quantile(mt, 0.9) - np.quantile(mc, 0.9), rel=TOL)
    assert row.resamples == 200 and row.method.startswith("bootstrap percentile")
