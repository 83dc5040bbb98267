"""Multiple-testing adjustment, wrapped from statsmodels' ``multipletests``: the one place
sds adjusts p-values.

One vocabulary, :data:`CORRECTIONS` (the ``correction`` option/key of every command and
spec), one default, ``holm``, and one output key, ``p_adjusted``, wherever adjusted
p-values are reported.

Family-wise error: ``holm`` (default: uniformly more powerful than Bonferroni, valid under
any dependence), ``hochberg`` (needs independence or positive dependence), ``bonferroni``,
``sidak`` (exact for independent tests). False discovery rate: ``benjamini-hochberg``
(``fdr_bh``), ``benjamini-yekutieli`` (``fdr_by``, any dependence). ``none`` leaves p-values
alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sds.params import CORRECTIONS as CORRECTIONS
from sds.params import check

if TYPE_CHECKING:  # numpy: loaded to adjust p-values, not to plan (sds design)
    import numpy as np

_STATSMODELS = {
    "holm": "holm",
    "hochberg": "simes-hochberg",
    "bonferroni": "bonferroni",
    "sidak": "sidak",
    "benjamini-hochberg": "fdr_bh",
    "benjamini-yekutieli": "fdr_by",
}
DEFAULT = "holm"


def adjust(p_values: Sequence[float], method: str = DEFAULT) -> list[float]:
    """Adjusted p-values in the input order; NaN entries stay NaN and do not count.

    Args:
        p_values: The family's p-values, each in [0, 1]; NaN marks a test that was not run
            and is left out of the family size.
        method: One of `holm` (default), `hochberg`, `bonferroni`, `sidak`,
            `benjamini-hochberg`, `benjamini-yekutieli` or `none` (returns the p-values
            unchanged). The first four control the family-wise error, the
            `benjamini-*` ones the false discovery rate.

    Returns:
        The adjusted p-values, as many as given and in the same order, each capped at 1.

    Raises:
        ParameterError: `method` is not one of the corrections above.
    """
    import numpy as np

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
    import numpy as np

    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out


def planning_alpha(alpha: float, comparisons: int, method: str = DEFAULT) -> float:
    """The level each of ``comparisons`` tests is planned (powered) at under ``method``.

    ``bonferroni`` and ``sidak`` test every comparison at ``alpha / m`` and
    ``1 - (1 - alpha)^(1/m)``. The stepwise methods hold their smallest p-value to the
    strictest level: ``alpha / m`` for ``holm`` (its first step), ``hochberg`` and
    ``benjamini-hochberg``, ``alpha / (m * H_m)`` for ``benjamini-yekutieli``; a plan at that
    level holds whichever comparison comes first and is conservative for the others.
    """
    check("alpha", alpha)
    check("correction", method, CORRECTIONS)
    m = int(comparisons)
    if m <= 1 or method == "none":
        return alpha
    if method == "sidak":
        return float(1 - (1 - alpha) ** (1 / m))
    if method == "benjamini-yekutieli":
        return alpha / (m * sum(1 / i for i in range(1, m + 1)))
    return alpha / m


def planning_note(method: str, comparisons: int, alpha: float, alpha_c: float) -> str | None:
    """For a stepwise method, one sentence saying that the plan is powered at the level of its
    strictest step (:func:`planning_alpha`); ``None`` with one comparison, no correction, or
    ``bonferroni``/``sidak``, which test every comparison at the planned level."""
    check("correction", method, CORRECTIONS)
    m = comparisons
    if m <= 1 or method in ("none", "bonferroni", "sidak"):
        return None
    formula = (
        f"{alpha:g} / ({m} * H_{m})" if method == "benjamini-yekutieli" else f"{alpha:g} / {m}"
    )
    first = "Holm's first step" if method == "holm" else "the level its smallest p-value meets"
    return (
        f"Correction {method}: each of the {m} comparisons is planned at {formula} = "
        f"{alpha_c:.4g}, {first}, so the plan holds whichever comparison comes first and is "
        "conservative for the later ones, which are tested at larger levels."
    )
