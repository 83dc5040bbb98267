"""Tail probabilities and quantiles of the normal, t and chi-square, and Brent's root
finder: the few scalar values the tests, plans and analyses need, without ``scipy.stats``.

Importing ``scipy.stats`` (which loads every distribution) took 0.7 s of a 1.2 s ``sds srm``
and most of a cold ``sds analyze``. So the normal (``norm_*``), the chi-square tail for
whole degrees of freedom and ``brentq`` come from the standard library, and ``sds srm`` and
``sds design proportion`` import neither numpy nor scipy: ``norm_cdf``/``norm_sf`` are
``scipy.special.ndtr`` written with the same ``erfc``, ``norm_ppf`` is Wichura's AS241
(``statistics.NormalDist``), ``chi2_sf`` is the closed form of the tail, and ``brentq`` is
Brent's method as ``scipy.optimize.brentq`` runs it. The t (and a chi-square with
fractional or very many degrees of freedom) come from the functions that ``scipy.stats``
calls itself (``stdtr``, ``stdtrit``, ``chdtrc`` in ``scipy.special``, a third of
``scipy.stats``' import), loaded on first use, with scipy.stats' edge values. Each function
is tested equal to its scipy counterpart to 1e-12 relative on a grid with the edges
(``tests/stats/test_distributions.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

_STANDARD = NormalDist()
_SQRT1_2 = math.sqrt(0.5)
_EPS = 2.220446049250313e-16


def norm_cdf(x: float) -> float:
    """``P(Z <= x)`` for a standard normal ``Z`` (``scipy.stats.norm.cdf``).

    Args:
        x: Where to evaluate.

    Returns:
        The lower-tail probability.
    """
    return 0.5 * math.erfc(-x * _SQRT1_2)


def norm_sf(x: float) -> float:
    """``P(Z > x)`` for a standard normal ``Z`` (``scipy.stats.norm.sf``), accurate far in
    the upper tail.

    Args:
        x: Where to evaluate.

    Returns:
        The upper-tail probability.
    """
    return 0.5 * math.erfc(x * _SQRT1_2)


def norm_ppf(p: float) -> float:
    """The standard normal quantile of ``p`` (``scipy.stats.norm.ppf``): -inf at 0, inf
    at 1, NaN outside [0, 1].

    Args:
        p: A probability.

    Returns:
        ``x`` with ``P(Z <= x) = p``.
    """
    if not 0.0 < p < 1.0:
        return -math.inf if p == 0.0 else math.inf if p == 1.0 else math.nan
    return _STANDARD.inv_cdf(p)


def norm_isf(q: float) -> float:
    """The standard normal upper quantile of ``q`` (``scipy.stats.norm.isf``).

    Args:
        q: An upper-tail probability.

    Returns:
        ``x`` with ``P(Z > x) = q``.
    """
    return -norm_ppf(q)


def chi2_sf(x: float, df: float) -> float:
    """``P(X > x)`` for a chi-square ``X`` with ``df`` degrees of freedom
    (``scipy.stats.chi2.sf``). For whole ``df`` up to 10,000, the closed form: with
    ``h = x / 2``, ``exp(-h) * sum(h^j / j!)`` over ``j < df / 2`` for even ``df``, and
    ``erfc(sqrt(h)) + exp(-h) * sum(h^(j - 1/2) / gamma(j + 1/2))`` over
    ``1 <= j <= (df - 1) / 2`` for odd ``df`` (every term is positive, so nothing cancels);
    otherwise ``scipy.special.chdtrc``.

    Args:
        x: The statistic.
        df: Degrees of freedom (NaN when not positive).

    Returns:
        The upper-tail probability (1 at or below 0, as scipy.stats).
    """
    if not df > 0 or math.isnan(x):
        return math.nan
    if x <= 0:
        return 1.0
    if x == math.inf:
        return 0.0
    if df > 10_000 or not float(df).is_integer():
        from scipy import special  # fractional or huge df: loaded only then

        return float(special.chdtrc(df, x))
    h, whole = x / 2, int(df)
    log_h = math.log(h)
    if whole % 2 == 0:
        terms = [math.exp(j * log_h - h - math.lgamma(j + 1)) for j in range(whole // 2)]
        return min(math.fsum(terms), 1.0)
    terms = [
        math.exp((j - 0.5) * log_h - h - math.lgamma(j + 0.5)) for j in range(1, (whole + 1) // 2)
    ]
    return min(math.fsum([math.erfc(math.sqrt(h)), *terms]), 1.0)


def t_sf(x: float, df: float) -> float:
    """``P(T > x)`` of Student's t with ``df`` degrees of freedom (``scipy.stats.t.sf``).

    Args:
        x: The point.
        df: Degrees of freedom (NaN when not positive).

    Returns:
        The upper tail probability.
    """
    from scipy import special

    return float(special.stdtr(df, -x))


def t_cdf(x: float, df: float) -> float:
    """``P(T <= x)`` of Student's t (``scipy.stats.t.cdf``).

    Args:
        x: The point.
        df: Degrees of freedom.

    Returns:
        The lower tail probability.
    """
    from scipy import special

    return float(special.stdtr(df, x))


def t_isf(q: float, df: float) -> float:
    """The point with upper tail ``q`` of Student's t (``scipy.stats.t.isf``).

    Args:
        q: The upper tail probability.
        df: Degrees of freedom.

    Returns:
        The quantile ``t`` with ``P(T > t) = q`` (``inf`` for ``q = 0``, as scipy.stats).
    """
    from scipy import special

    if q == 0 and df > 0:
        return math.inf
    return float(-special.stdtrit(df, q))


def brentq(
    f: Callable[[float], float],
    a: float,
    b: float,
    xtol: float = 2e-12,
    rtol: float = 4 * _EPS,
    maxiter: int = 100,
) -> float:
    """A root of ``f`` in ``[a, b]`` by Brent's method (``scipy.optimize.brentq``, same
    steps and stopping rule: ``|x - root| <= xtol + rtol * |x|``).

    Args:
        f: A continuous function with ``f(a)`` and ``f(b)`` of opposite signs.
        a: One end of the bracket.
        b: The other end.
        xtol: Absolute tolerance.
        rtol: Relative tolerance.
        maxiter: Most iterations before giving up.

    Returns:
        The root.

    Raises:
        ValueError: ``f(a)`` and ``f(b)`` have the same sign.
        RuntimeError: No convergence in ``maxiter`` iterations.
    """
    x_prev, x_cur = float(a), float(b)
    f_prev, f_cur = f(x_prev), f(x_cur)
    if f_prev * f_cur > 0:
        raise ValueError("f(a) and f(b) must have different signs")
    if f_prev == 0:
        return x_prev
    if f_cur == 0:
        return x_cur
    x_blk = f_blk = step_prev = step_cur = 0.0
    for _ in range(maxiter):
        if f_prev * f_cur < 0:  # the root lies between x_prev and x_cur: keep the bracket
            x_blk, f_blk = x_prev, f_prev
            step_prev = step_cur = x_cur - x_prev
        if abs(f_blk) < abs(f_cur):  # x_cur is the best estimate so far
            x_prev, x_cur, x_blk = x_cur, x_blk, x_cur
            f_prev, f_cur, f_blk = f_cur, f_blk, f_cur
        delta = (xtol + rtol * abs(x_cur)) / 2
        bisect = (x_blk - x_cur) / 2
        if f_cur == 0 or abs(bisect) < delta:
            return x_cur
        step_prev, step_cur = _next_step(
            (x_prev, x_cur, x_blk), (f_prev, f_cur, f_blk), step_prev, step_cur, delta, bisect
        )
        x_prev, f_prev = x_cur, f_cur
        x_cur += step_cur if abs(step_cur) > delta else (delta if bisect > 0 else -delta)
        f_cur = f(x_cur)
    raise RuntimeError(f"brentq: no convergence in {maxiter} iterations")


def _next_step(
    xs: tuple[float, float, float],
    fs: tuple[float, float, float],
    step_prev: float,
    step_cur: float,
    delta: float,
    bisect: float,
) -> tuple[float, float]:
    """Brent's choice between an interpolation step (secant, or inverse quadratic when the
    three points differ) and bisection: the new (previous step, current step)."""
    x_prev, x_cur, x_blk = xs
    f_prev, f_cur, f_blk = fs
    if abs(step_prev) > delta and abs(f_cur) < abs(f_prev):
        if x_prev == x_blk:  # secant
            trial = -f_cur * (x_cur - x_prev) / (f_cur - f_prev)
        else:  # inverse quadratic
            d_prev = (f_prev - f_cur) / (x_prev - x_cur)
            d_blk = (f_blk - f_cur) / (x_blk - x_cur)
            trial = -f_cur * (f_blk * d_blk - f_prev * d_prev) / (d_blk * d_prev * (f_blk - f_prev))
        if 2 * abs(trial) < min(abs(step_prev), 3 * abs(bisect) - delta):
            return step_cur, trial  # a good short step
    return bisect, bisect
