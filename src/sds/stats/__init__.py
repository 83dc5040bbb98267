"""Classic hypothesis tests, regressions and effect sizes, with assumption checks.

Every function returns a result whose ``to_dict()`` carries the test, statistic, p-value,
degrees of freedom, an effect size with its interval, sample sizes, assumption figures and
warnings::

    from sds import stats
    res = stats.ttest(control, treatment)            # Welch by default
    res = stats.run(table_or_frame, stats.StatsSpec("auto", value="revenue", group="variant"))
    print(res.summary())

Names are imported lazily, so ``import sds.stats`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ttest": "sds.stats.ttest",
    "mann_whitney": "sds.stats.nonparametric",
    "wilcoxon": "sds.stats.nonparametric",
    "sign_test": "sds.stats.nonparametric",
    "ks_one_sample": "sds.stats.nonparametric",
    "ks_two_sample": "sds.stats.nonparametric",
    "chi_square_independence": "sds.stats.contingency",
    "chi_square_goodness_of_fit": "sds.stats.contingency",
    "fisher_exact": "sds.stats.contingency",
    "two_proportion_z": "sds.stats.contingency",
    "one_way_anova": "sds.stats.anova",
    "welch_anova": "sds.stats.anova",
    "kruskal_wallis": "sds.stats.anova",
    "tukey_hsd": "sds.stats.posthoc",
    "games_howell": "sds.stats.posthoc",
    "correlation": "sds.stats.correlation",
    "normality": "sds.stats.distribution",
    "equal_variance": "sds.stats.distribution",
    "adjust": "sds.stats.multiple",
    "regress": "sds.stats.regression",
    "run": "sds.stats.runner",
    "StatsSpec": "sds.stats.spec",
    "TestResult": "sds.stats.result",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sds.stats' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
