"""Tail probabilities and quantiles of the normal, t and chi-square, from ``scipy.special``.

The functions that ``scipy.stats.norm``, ``t`` and ``chi2`` call themselves (``ndtr``,
``ndtri``, ``stdtr``, ``stdtrit``, ``chdtrc``), with the same edge values, so each result
equals scipy.stats' to the last bit (tests/stats/test_tails.py). The reason to exist is
import time: ``scipy.special`` costs about a third of ``scipy.stats`` (which loads every
distribution), and ``sds analyze`` needs only these few.
"""

from __future__ import annotations

import math

from scipy import special


def norm_cdf(x: float) -> float:
    """``P(Z <= x)`` of the standard normal (``scipy.stats.norm.cdf``).

    Args:
        x: The point.

    Returns:
        The lower tail probability.
    """
    return float(special.ndtr(x))


def norm_sf(x: float) -> float:
    """``P(Z > x)`` of the standard normal (``scipy.stats.norm.sf``).

    Args:
        x: The point.

    Returns:
        The upper tail probability.
    """
    return float(special.ndtr(-x))


def norm_isf(q: float) -> float:
    """The point with upper tail ``q`` (``scipy.stats.norm.isf``): 1.96 for 0.025.

    Args:
        q: The upper tail probability.

    Returns:
        The quantile ``z`` with ``P(Z > z) = q``.
    """
    return float(-special.ndtri(q))


def t_sf(x: float, df: float) -> float:
    """``P(T > x)`` of Student's t with ``df`` degrees of freedom (``scipy.stats.t.sf``).

    Args:
        x: The point.
        df: Degrees of freedom (NaN when not positive).

    Returns:
        The upper tail probability.
    """
    return float(special.stdtr(df, -x))


def t_cdf(x: float, df: float) -> float:
    """``P(T <= x)`` of Student's t (``scipy.stats.t.cdf``).

    Args:
        x: The point.
        df: Degrees of freedom.

    Returns:
        The lower tail probability.
    """
    return float(special.stdtr(df, x))


def t_isf(q: float, df: float) -> float:
    """The point with upper tail ``q`` of Student's t (``scipy.stats.t.isf``).

    Args:
        q: The upper tail probability.
        df: Degrees of freedom.

    Returns:
        The quantile ``t`` with ``P(T > t) = q`` (``inf`` for ``q = 0``, as scipy.stats).
    """
    if q == 0 and df > 0:
        return math.inf
    return float(-special.stdtrit(df, q))


def chi2_sf(x: float, df: float) -> float:
    """``P(X > x)`` of the chi-square with ``df`` degrees of freedom
    (``scipy.stats.chi2.sf``).

    Args:
        x: The point.
        df: Degrees of freedom (NaN when not positive).

    Returns:
        The upper tail probability (1 below 0, as scipy.stats).
    """
    if not df > 0 or math.isnan(x):
        return math.nan
    if x < 0:
        return 1.0
    if x == math.inf:
        return 0.0
    return float(special.chdtrc(df, x))
