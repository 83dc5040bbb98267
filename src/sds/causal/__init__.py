"""Causal inference without a randomized experiment.

Every estimator returns a :class:`CausalResult`: estimate, interval and p-value, the
diagnostics of its assumptions, warnings, tables and plots, and a plain-language verdict.

- :func:`psm`, :func:`ipw`, :func:`aipw`: propensity matching, weighting, doubly robust.
- :func:`did`, :func:`event_study`, :func:`staggered`: difference-in-differences.
- :func:`rdd`: regression discontinuity, sharp or fuzzy.
- :func:`iv`: instrumental variables (2SLS, LIML).
- :func:`advise`: which of these fits a design.
- :func:`run`: the package's entry point in the public namespace's argument order,
  ``sds.causal.run(data, "ipw", outcome=..., treatment=..., covariates=[...])``.
"""

from __future__ import annotations

from sds.causal.advise import advise
from sds.causal.api import run
from sds.causal.did import did
from sds.causal.event_study import event_study
from sds.causal.iv import iv
from sds.causal.matching import psm
from sds.causal.rdd import rdd
from sds.causal.refute import with_placebo_outcomes
from sds.causal.result import CausalResult
from sds.causal.staggered import staggered
from sds.causal.weighting import aipw, ipw

__all__ = [
    "CausalResult",
    "advise",
    "aipw",
    "did",
    "event_study",
    "ipw",
    "iv",
    "psm",
    "rdd",
    "run",
    "staggered",
    "with_placebo_outcomes",
]
