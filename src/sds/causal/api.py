"""The causal entry point of the public namespace, ``sds.causal.run``, in the namespace's
one argument order (see :mod:`sds`): the data first, then the method, then its columns and
options by keyword. ``sds.causal`` stays the package, so ``sds.causal.psm`` and the other
estimators (same order: data, then their columns) keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sds.causal.did import did
from sds.causal.event_study import event_study
from sds.causal.iv import iv
from sds.causal.matching import psm
from sds.causal.rdd import rdd
from sds.causal.result import CausalResult
from sds.causal.staggered import staggered
from sds.causal.weighting import aipw, ipw
from sds.params import OneOf, check

ESTIMATORS: dict[str, Callable[..., CausalResult]] = {
    "psm": psm,
    "ipw": ipw,
    "aipw": aipw,
    "did": did,
    "event_study": event_study,
    "staggered": staggered,
    "rdd": rdd,
    "iv": iv,
}


def run(data: Any, method: str, /, **options: Any) -> CausalResult:
    """Estimate a causal effect on `data` with `method`.

    `options` are the estimator's columns (`outcome=`, `treatment=`, ...) and settings, as
    `sds.causal.ipw` and the others name them.

    Args:
        data: A DataFrame, path, glob, SQL query or `Table`.
        method: The estimator: `psm`, `ipw`, `aipw`, `did`, `event_study`, `staggered`, `rdd`
            or `iv`.
        **options: The estimator's keyword arguments, passed on unchanged.

    Returns:
        The chosen estimator's result.

    Raises:
        ParameterError: An unknown `method`, or an option the estimator rejects.
    """
    check("method", method, OneOf(tuple(ESTIMATORS)))
    return ESTIMATORS[method](data, **options)
