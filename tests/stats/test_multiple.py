"""``sds.stats.multiple.adjust`` against statsmodels ``multipletests`` (1e-12), including
ties, p-values near 1 (capped) and NaN entries (kept, not counted)."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from sds.stats.multiple import adjust

METHODS = {
    "holm": "holm",
    "hochberg": "simes-hochberg",
    "bonferroni": "bonferroni",
    "benjamini-hochberg": "fdr_bh",
    "benjamini-yekutieli": "fdr_by",
}


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adjust_matches_multipletests(method: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.06, 8), rng.uniform(0, 1, 12), [0.01, 0.01, 0.9]])
    rng.shuffle(p)
    expected = multipletests(p, method=METHODS[method])[1]
    assert adjust(list(p), method) == pytest.approx(list(expected), rel=1e-12, abs=1e-15)


def test_nan_entries_stay_nan_and_do_not_count() -> None:
    out = adjust([0.01, float("nan"), 0.04], "holm")
    assert np.isnan(out[1])
    assert out[0] == pytest.approx(0.02) and out[2] == pytest.approx(0.04)
    assert adjust([0.01, 0.2], "none") == [0.01, 0.2]
