"""Group-sequential designs with Lan-DeMets alpha spending, by numerical integration.

At information fractions ``t_1 < ... < t_K = 1`` the z-statistics have the canonical joint
distribution: ``S_k = Z_k sqrt(t_k)`` is Brownian motion with drift ``theta`` (the mean of
``Z`` at ``t = 1``). Boundary crossing probabilities are computed by the recursive
integration of Armitage, McPherson & Rowe (1969) as laid out by Jennison & Turnbull (2000,
ch. 19): the density of ``S_k`` on the continuation region is carried from look to look on a
grid (Simpson weights) and convolved with the normal increment. The efficacy bound at look
``k`` is the root (Brent) that makes the probability of first crossing there equal the alpha
the spending function releases between ``t_{k-1}`` and ``t_k``.

Two-sided designs are symmetric: each side spends ``alpha / 2`` (as gsDesign's test.type 2);
one-sided designs spend ``alpha`` on one side. Spending functions at one-sided level ``a``:
O'Brien-Fleming-like ``2 - 2 Phi(z_{1-a/2} / sqrt(t))``, Pocock-like ``a ln(1 + (e-1) t)``,
power family (Kim & DeMets 1987) ``a t^gamma``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sds.errors import ParameterError
from sds.params import check
from sds.results import KeyValue, Result, Section, Table, jsonable_dict

GRID_STEP = 0.025  # in units of sqrt(information increment); Simpson error is far below 1e-6
TAIL = 9.0  # the grid spans the drift +- TAIL standard deviations


def spent(t: float, alpha: float, spending: str, gamma: float = 3.0) -> float:
    """Cumulative one-sided alpha spent at information fraction ``t``."""
    from scipy import stats  # heavy: loaded when a plan is computed

    if t <= 0:
        return 0.0
    t = min(t, 1.0)
    if spending == "obrien-fleming":
        return float(2 - 2 * stats.norm.cdf(stats.norm.isf(alpha / 2) / math.sqrt(t)))
    if spending == "pocock":
        return alpha * math.log(1 + (math.e - 1) * t)
    if spending == "power":
        return float(alpha * t**gamma)
    raise ParameterError(
        f"spending == {spending!r}, must be one of 'obrien-fleming', 'pocock', 'power'",
        parameter="spending",
    )


def _simpson(n: int) -> np.ndarray:
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return w / 3


def _grid(low: float, high: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    n = max(math.ceil((high - low) / step), 2)
    n += n % 2  # Simpson needs an even number of intervals
    x = np.linspace(low, high, n + 1)
    return x, _simpson(n + 1) * (x[1] - x[0])


@dataclass
class _Recursion:
    """The sub-density of S_k on the continuation region, carried from look to look."""

    theta: float
    x: np.ndarray | None = None  # grid of S values
    f: np.ndarray | None = None  # density times weights (so sums are integrals)
    t_prev: float = 0.0

    def cross(self, t: float, upper: float, lower: float | None) -> tuple[float, float]:
        """P(first crossing at this look above ``upper`` / below ``lower``) in z units."""
        from scipy import stats

        dt = t - self.t_prev
        hi, lo = upper * math.sqrt(t), -math.inf if lower is None else lower * math.sqrt(t)
        if self.x is None:
            mean, sd = self.theta * t, math.sqrt(t)
            up = stats.norm.sf((hi - mean) / sd)
            down = stats.norm.cdf((lo - mean) / sd) if lower is not None else 0.0
            return float(up), float(down)
        moved = self.x + self.theta * dt
        sd = math.sqrt(dt)
        up = float(self.f @ stats.norm.sf((hi - moved) / sd))
        down = float(self.f @ stats.norm.cdf((lo - moved) / sd)) if lower is not None else 0.0
        return up, down

    def advance(self, t: float, upper: float, lower: float | None) -> None:
        """Move the density to look ``t``, keeping only the continuation region."""
        from scipy import stats

        dt = t - self.t_prev
        sd = math.sqrt(dt)
        hi = upper * math.sqrt(t)
        center = self.theta * t
        lo = lower * math.sqrt(t) if lower is not None else center - TAIL * math.sqrt(t)
        x, w = _grid(
            max(lo, center - TAIL * math.sqrt(t)),
            min(hi, center + TAIL * math.sqrt(t)),
            GRID_STEP * min(sd, 1.0),
        )
        if self.x is None:
            density = stats.norm.pdf(x, self.theta * t, math.sqrt(t))
        else:
            kernel = stats.norm.pdf((x[:, None] - self.x[None, :] - self.theta * dt) / sd) / sd
            density = kernel @ self.f
        self.x, self.f, self.t_prev = x, density * w, t


def _check_fractions(fractions: list[float]) -> list[float]:
    if not fractions or any(b <= a for a, b in itertools.pairwise(fractions)):
        raise ParameterError(
            f"information_fractions == {fractions}, must be increasing",
            parameter="information_fractions",
        )
    for t in fractions:
        check("information", t)
    return fractions


def boundaries(
    fractions: list[float],
    alpha: float = 0.05,
    spending: str = "obrien-fleming",
    alternative: str = "two-sided",
    gamma: float = 3.0,
) -> list[float]:
    """Efficacy z-boundaries at the given fractions (the last need not be 1 at an interim)."""
    from scipy import optimize

    check("alpha", alpha)
    check("alternative", alternative)
    check("spending", spending)
    _check_fractions(fractions)
    side_alpha = alpha / 2 if alternative == "two-sided" else alpha
    two = alternative == "two-sided"
    rec = _Recursion(theta=0.0)
    bounds: list[float] = []
    previous = 0.0
    for t in fractions:
        target = spent(t, side_alpha, spending, gamma) - previous
        previous += target

        def gap(c: float, t: float = t, target: float = target) -> float:
            up, _ = rec.cross(t, c, -c if two else None)
            return up - target

        c = float(optimize.brentq(gap, 0.0, 40.0, xtol=1e-10)) if target > 1e-15 else 40.0
        bounds.append(c)
        rec.advance(t, c, -c if two else None)
    return bounds


def crossing(
    bounds: list[float], fractions: list[float], theta: float, two_sided: bool = True
) -> tuple[list[float], list[float]]:
    """Per-look probabilities of first crossing above / below the bounds under drift theta."""
    rec = _Recursion(theta=theta)
    ups, downs = [], []
    for t, c in zip(fractions, bounds, strict=True):
        up, down = rec.cross(t, c, -c if two_sided else None)
        ups.append(up)
        downs.append(down)
        rec.advance(t, c, -c if two_sided else None)
    return ups, downs


@dataclass(frozen=True)
class SequentialBoundaries(Result):
    """Efficacy boundaries at the looks taken (or planned); reused by the analysis."""

    title: ClassVar[str] = "Sequential boundaries"
    information_fractions: tuple[float, ...]
    z_boundaries: tuple[float, ...]
    alpha: float
    spending: str
    alternative: str

    def to_dict(self) -> dict[str, Any]:
        from scipy import stats

        side = self.alpha / 2 if self.alternative == "two-sided" else self.alpha
        factor = 2 if self.alternative == "two-sided" else 1
        fractions = list(self.information_fractions)
        return jsonable_dict(
            {
                "alpha": self.alpha,
                "spending": self.spending,
                "alternative": self.alternative,
                "looks": len(fractions),
                "information_fractions": fractions,
                "z_boundaries": list(self.z_boundaries),
                "nominal_p_values": [factor * float(stats.norm.sf(c)) for c in self.z_boundaries],
                "cumulative_alpha": [factor * spent(t, side, self.spending) for t in fractions],
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        rows = [
            [k + 1, t, z, p, a]
            for k, (t, z, p, a) in enumerate(
                zip(
                    d["information_fractions"],
                    d["z_boundaries"],
                    d["nominal_p_values"],
                    d["cumulative_alpha"],
                    strict=True,
                )
            )
        ]
        return [
            KeyValue("Design", [(k, d[k]) for k in ("alpha", "spending", "alternative", "looks")]),
            Table(
                "Boundaries",
                ["look", "information_share", "z_boundary", "nominal_p_value", "cumulative_alpha"],
                rows,
            ),
        ]


def sequential_boundaries(
    information_fractions: list[float],
    alpha: float = 0.05,
    spending: str = "obrien-fleming",
    alternative: str = "two-sided",
    spending_gamma: float = 3.0,
) -> SequentialBoundaries:
    """Boundaries for the looks actually taken, with the planned spending function."""
    fractions = [float(t) for t in information_fractions]
    bounds = boundaries(fractions, alpha, spending, alternative, spending_gamma)
    return SequentialBoundaries(tuple(fractions), tuple(bounds), alpha, spending, alternative)


@dataclass(frozen=True)
class SequentialPlan(Result):
    """A group-sequential plan: boundaries, sample size inflation, expected sample sizes."""

    title: ClassVar[str] = "Group-sequential plan"
    boundaries: SequentialBoundaries
    power: float
    inflation_factor: float
    expected_n_h0_fraction: float
    expected_n_h1_fraction: float
    naive_peeking_alpha: float
    n_fixed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = self.boundaries.to_dict() | {
            "power": self.power,
            "inflation_factor": self.inflation_factor,
            "expected_n_h0_fraction": self.expected_n_h0_fraction,
            "expected_n_h1_fraction": self.expected_n_h1_fraction,
            "naive_peeking_alpha": self.naive_peeking_alpha,
            "n_fixed": self.n_fixed,
        }
        if self.n_fixed is not None:
            d["n_max"] = math.ceil(self.n_fixed * self.inflation_factor - 1e-9)
            d["expected_n_h0"] = math.ceil(self.n_fixed * self.expected_n_h0_fraction - 1e-9)
            d["expected_n_h1"] = math.ceil(self.n_fixed * self.expected_n_h1_fraction - 1e-9)
        return jsonable_dict(d)

    def sections(self) -> list[Section]:
        d = self.to_dict()
        keys = [
            "power",
            "inflation_factor",
            "expected_n_h0_fraction",
            "expected_n_h1_fraction",
            "naive_peeking_alpha",
            "n_fixed",
            "n_max",
            "expected_n_h0",
            "expected_n_h1",
        ]
        return [
            *self.boundaries.sections(),
            KeyValue("Sample size", [(k, d[k]) for k in keys if d.get(k) is not None]),
        ]


def _expected_fraction(ups: list[float], downs: list[float], fractions: list[float]) -> float:
    stop = [u + d for u, d in zip(ups, downs, strict=True)]
    early = sum(p * t for p, t in zip(stop[:-1], fractions[:-1], strict=True))
    return early + (1 - sum(stop[:-1])) * fractions[-1]


def sequential_design(
    looks: int = 5,
    alpha: float = 0.05,
    power: float = 0.8,
    spending: str = "obrien-fleming",
    alternative: str = "two-sided",
    information_fractions: list[float] | None = None,
    n_fixed: int | None = None,
    spending_gamma: float = 3.0,
) -> SequentialPlan:
    """Plan K looks: boundaries, max sample size inflation, expected sample size under H0/H1.

    Power counts crossings of the efficacy side (as gsDesign does); the inflation factor is
    ``(theta_K / theta_1)^2``, the drift giving ``power`` with these bounds over the drift
    giving it in one look.
    """
    from scipy import optimize, stats

    check("looks", looks)
    check("power", power)
    fractions = information_fractions or [k / looks for k in range(1, looks + 1)]
    if len(fractions) != looks or not math.isclose(fractions[-1], 1.0):
        raise ParameterError(
            f"information_fractions == {fractions}, must have {looks} "
            "increasing values ending at 1",
            parameter="information_fractions",
        )
    bounds = boundaries(fractions, alpha, spending, alternative, spending_gamma)
    two = alternative == "two-sided"
    side = alpha / 2 if two else alpha

    def power_gap(theta: float) -> float:
        return sum(crossing(bounds, fractions, theta, two)[0]) - power

    theta = float(optimize.brentq(power_gap, 0.0, 20.0, xtol=1e-10))
    theta_fixed = float(stats.norm.isf(side) + stats.norm.ppf(power))
    inflation = (theta / theta_fixed) ** 2
    h0 = crossing(bounds, fractions, 0.0, two)
    h1 = crossing(bounds, fractions, theta, two)
    critical = float(stats.norm.isf(side))
    naive = crossing([critical] * looks, fractions, 0.0, two)
    return SequentialPlan(
        SequentialBoundaries(tuple(fractions), tuple(bounds), alpha, spending, alternative),
        power,
        inflation,
        inflation * _expected_fraction(*h0, fractions),
        inflation * _expected_fraction(*h1, fractions),
        sum(naive[0]) + sum(naive[1]),
        n_fixed,
    )
