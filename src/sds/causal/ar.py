"""The Anderson-Rubin confidence set for one endogenous treatment.

For a hypothesised effect b, regress ``y - b*d`` on the instruments and covariates and test
the instruments' coefficients jointly; the set is every b the test does not reject. It has
the right coverage however weak the instruments, and it may be a half-line, two half-lines
or the whole line when they are weak: that is information, not a failure.

The covariates are partialled out once (Frisch-Waugh-Lovell); then the instruments'
coefficients are linear in b and their covariance (classical, HC1 or CR1, matching
statsmodels) quadratic in b, so the statistic over a fine grid costs a few matrix products.
Endpoints are refined with a root finder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats


@dataclass(frozen=True)
class IVData:
    """One IV problem as arrays: outcome, treatment, covariates (with the constant),
    instruments, optional weights, the error type, and cluster codes (0..G-1) when the
    errors are clustered."""

    y: np.ndarray
    d: np.ndarray
    x: np.ndarray
    z: np.ndarray
    w: np.ndarray | None
    cov: str
    groups: np.ndarray | None


class _ARStatistic:
    def __init__(self, data: IVData) -> None:
        y, d, x, z, cov = data.y, data.d, data.x, data.z, data.cov
        if data.w is not None:
            root = np.sqrt(data.w)
            y, d, x, z = y * root, d * root, x * root[:, None], z * root[:, None]
        q = np.linalg.lstsq(x, np.column_stack([y, d, z]), rcond=None)[0]
        resid = np.column_stack([y, d, z]) - x @ q
        yt, dt, zt = resid[:, 0], resid[:, 1], resid[:, 2:]
        n, k = zt.shape
        self.k, self.df = k, n - x.shape[1] - k
        self.g = np.linalg.inv(zt.T @ zt)
        self.a, self.b = self.g @ zt.T @ yt, self.g @ zt.T @ dt
        ey, ed = yt - zt @ self.a, dt - zt @ self.b
        if cov == "unadjusted":
            self.m = [np.array([[ey @ ey]]), np.array([[ey @ ed]]), np.array([[ed @ ed]])]
            self.scale = 1.0 / self.df
        elif cov == "robust":
            self.m = [(zt * (p * r)[:, None]).T @ zt for p, r in ((ey, ey), (ey, ed), (ed, ed))]
            self.scale = n / self.df
        else:
            assert data.groups is not None  # iv() sets codes for clustered errors
            codes = data.groups
            ngroups = int(codes.max()) + 1
            sy = np.zeros((ngroups, k))
            sd = np.zeros((ngroups, k))
            np.add.at(sy, codes, zt * ey[:, None])
            np.add.at(sd, codes, zt * ed[:, None])
            self.m = [sy.T @ sy, sy.T @ sd, sd.T @ sd]
            self.scale = ngroups / (ngroups - 1) * (n - 1) / self.df
            self.df = ngroups - 1
        self.classical = cov == "unadjusted"

    def f(self, beta: np.ndarray) -> np.ndarray:
        """The F statistic of the instruments at each hypothesised effect."""
        beta = np.atleast_1d(np.asarray(beta, dtype=float))
        gamma = self.a[None, :] - beta[:, None] * self.b[None, :]
        m0, m1, m2 = self.m
        meat = m0[None] - 2 * beta[:, None, None] * m1[None] + beta[:, None, None] ** 2 * m2[None]
        if self.classical:
            cov = self.scale * meat[:, :, :] * self.g[None]
        else:
            cov = self.scale * self.g[None] @ meat @ self.g[None]
        solved = np.linalg.solve(cov, gamma[:, :, None])[:, :, 0]
        return np.asarray(np.einsum("ij,ij->i", gamma, solved) / self.k)

    def f_at_infinity(self) -> float:
        m2 = self.m[2]
        cov = self.scale * (m2 * self.g if self.classical else self.g @ m2 @ self.g)
        return float(self.b @ np.linalg.solve(cov, self.b) / self.k)


def anderson_rubin(
    data: IVData, confidence: float, estimate: float, std_error: float
) -> dict[str, Any]:
    """The AR set at ``confidence`` and the AR p-value of no effect."""
    ar = _ARStatistic(data)
    crit = float(stats.f.ppf(confidence, ar.k, ar.df))
    p_zero = float(stats.f.sf(ar.f(np.array([0.0]))[0], ar.k, ar.df))
    width = max(20 * std_error, 2 * abs(estimate), 1e-8) if np.isfinite(std_error) else 1.0
    for _ in range(6):
        grid = np.linspace(estimate - width, estimate + width, 4001)
        accepted = ar.f(grid) <= crit
        if not (accepted[0] or accepted[-1]):
            break
        width *= 10
    pieces = _pieces(ar, grid, accepted, crit)
    unbounded_tails = ar.f_at_infinity() <= crit
    bounded = len(pieces) == 1 and not unbounded_tails and not (accepted[0] or accepted[-1])
    if bounded:
        label = f"[{pieces[0][0]:.6g}, {pieces[0][1]:.6g}]"
    elif not pieces:
        label = "empty (every effect is rejected: the model is misspecified)"
    elif unbounded_tails and len(pieces) == 1 and accepted[0] and accepted[-1]:
        label = "the whole real line"
    else:
        label = " U ".join(_interval_label(lo, hi, grid) for lo, hi in pieces)
    return {
        "interval": [pieces[0][0], pieces[0][1]] if bounded else None,
        "bounded": bounded,
        "label": label,
        "p_value": p_zero,
        "critical_f": crit,
    }


def _pieces(
    ar: _ARStatistic, grid: np.ndarray, accepted: np.ndarray, crit: float
) -> list[tuple[float, float]]:
    """Contiguous accepted runs of the grid, their ends refined to where F = crit."""
    out = []
    index = np.flatnonzero(accepted)
    runs = np.split(index, np.flatnonzero(np.diff(index) > 1) + 1) if index.size else []
    for run in runs:
        s, e = int(run[0]), int(run[-1])
        lo, hi = float(grid[s]), float(grid[e])
        if s > 0:
            lo = _root(ar, grid[s - 1], grid[s], crit)
        if e < len(grid) - 1:
            hi = _root(ar, grid[e], grid[e + 1], crit)
        out.append((lo, hi))
    return out


def _root(ar: _ARStatistic, a: float, b: float, crit: float) -> float:
    return float(optimize.brentq(lambda v: ar.f(np.array([v]))[0] - crit, a, b, xtol=1e-12))


def _interval_label(lo: float, hi: float, grid: np.ndarray) -> str:
    left = "(-inf" if lo <= grid[0] else f"[{lo:.6g}"
    right = "+inf)" if hi >= grid[-1] else f"{hi:.6g}]"
    return f"{left}, {right}"
