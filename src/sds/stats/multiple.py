"""Multiple-testing adjustment, wrapped from statsmodels' ``multipletests``.

Family-wise error: ``bonferroni``, ``holm`` (default: uniformly more powerful than
Bonferroni, valid under any dependence), ``hochberg`` (needs independence or positive
dependence). False discovery rate: ``benjamini-hochberg`` (``fdr_bh``), ``benjamini-yekutieli``
(``fdr_by``, any dependence). ``none`` leaves p-values alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sds.params import OneOf, check

CORRECTIONS = OneOf(
    ("holm", "hochberg", "bonferroni", "benjamini-hochberg", "benjamini-yekutieli", "none")
)
_STATSMODELS = {
    "holm": "holm",
    "hochberg": "simes-hochberg",
    "bonferroni": "bonferroni",
    "benjamini-hochberg": "fdr_bh",
    "benjamini-yekutieli": "fdr_by",
}


def adjust(p_values: Sequence[float], method: str = "holm") -> list[float]:
    """Adjusted p-values in the input order; NaN entries stay NaN and do not count."""
    check("correction", method, CORRECTIONS)
    p = np.asarray(p_values, dtype=float)
    out = p.copy()
    keep = ~np.isnan(p)
    if method == "holm" and keep.any():
        out[keep] = _holm(p[keep])
    elif method != "none" and keep.any():
        from statsmodels.stats.multitest import multipletests

        out[keep] = multipletests(p[keep], method=_STATSMODELS[method])[1]
    return [float(v) for v in out]


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment, computed here because statsmodels' holm branch runs a
    full ``gc.collect()`` on every call (0.1-0.2 s in a process holding a large heap, and
    an analysis adjusts several families). Tested equal to ``multipletests``."""
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out
