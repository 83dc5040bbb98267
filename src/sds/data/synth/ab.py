"""A user-level A/B test with a known lift, a pre-period covariate and segments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sds.params import PROBABILITY_OPEN, SHARE, Interval, check

_START = "2026-01-05T00:00:00"


@dataclass(frozen=True)
class ABTestParams:
    """True parameters of :func:`sds.data.synth.make_ab_test`.

    Each user has a latent engagement ``w ~ Gamma(shape, 1/shape)`` (mean 1). Control users
    convert with probability ``baseline_conversion * w``; treatment users with that times
    ``1 + lift``, so the true relative lift in conversion is exactly ``lift`` (up to the
    clip at 1, which never binds for the defaults). Converted users place
    ``1 + Poisson(extra_orders)`` orders, each worth ``LogNormal`` with mean
    ``mean_order_value``; revenue per user therefore also rises by ``lift`` in expectation.
    ``pre_revenue`` is the same process over the ``pre_period_scale`` times longer period
    before the test (conversion probability scaled by it, no treatment), so it correlates
    with revenue through ``w`` (the CUPED covariate). ``sessions`` is
    ``1 + Poisson(mean_sessions * w)``. Users arrive uniformly over ``days`` days.
    """

    n_users: int = 100_000
    baseline_conversion: float = 0.10
    lift: float = 0.05
    treatment_share: float = 0.5
    engagement_shape: float = 0.8
    pre_period_scale: float = 3.0
    extra_orders: float = 0.3
    mean_order_value: float = 40.0
    order_value_sigma: float = 0.6
    mean_sessions: float = 4.0
    days: int = 14

    def __post_init__(self) -> None:
        check("n_users", self.n_users, Interval(1, None, integer=True))
        check("baseline_conversion", self.baseline_conversion, PROBABILITY_OPEN)
        check("lift", self.lift, Interval(-1.0, None, low_open=True))
        check("treatment_share", self.treatment_share, PROBABILITY_OPEN)
        check("engagement_shape", self.engagement_shape, Interval(0.0, None, low_open=True))
        check("pre_period_scale", self.pre_period_scale, Interval(0.0, None, low_open=True))
        check("days", self.days, Interval(1, None, integer=True))
        check("order_value_sigma", self.order_value_sigma, Interval(0.0, None))
        check("mean_order_value", self.mean_order_value, Interval(0.0, None, low_open=True))
        check("extra_orders", self.extra_orders, Interval(0.0, None))
        check("mean_sessions", self.mean_sessions, Interval(0.0, None))
        check("baseline_conversion", self.baseline_conversion * (1 + self.lift), SHARE)

    @property
    def treatment_conversion(self) -> float:
        return self.baseline_conversion * (1 + self.lift)

    @property
    def revenue_per_user_control(self) -> float:
        return self.baseline_conversion * (1 + self.extra_orders) * self.mean_order_value


def _revenue(rng: Any, p: ABTestParams, prob: Any) -> tuple[Any, Any, Any]:
    import numpy as np

    converted = rng.random(prob.shape[0]) < prob
    orders = np.where(converted, 1 + rng.poisson(p.extra_orders, prob.shape[0]), 0)
    mu = np.log(p.mean_order_value) - p.order_value_sigma**2 / 2
    # Sum of `orders` log-normal values: draw per order, add up per user.
    owner = np.repeat(np.arange(prob.shape[0]), orders)
    values = rng.lognormal(mu, p.order_value_sigma, owner.shape[0])
    revenue = np.bincount(owner, weights=values, minlength=prob.shape[0])
    return converted, orders, np.round(revenue, 2)


def ab_block(p: ABTestParams, rng: Any, start: int, n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    w = rng.gamma(p.engagement_shape, 1.0 / p.engagement_shape, n)
    treated = rng.random(n) < p.treatment_share
    base = np.clip(p.baseline_conversion * w, 0.0, 1.0)
    _, _, pre_revenue = _revenue(rng, p, np.clip(base * p.pre_period_scale, 0.0, 1.0))
    prob = np.clip(np.where(treated, base * (1 + p.lift), base), 0.0, 1.0)
    converted, orders, revenue = _revenue(rng, p, prob)
    seconds = rng.integers(0, p.days * 86_400, n)
    assigned = np.datetime64(_START, "s") + seconds.astype("timedelta64[s]")
    return pa.table(
        {
            "user_id": np.arange(start, start + n, dtype=np.int64),
            "variant": np.where(treated, "treatment", "control"),
            "assigned_at": assigned.astype("datetime64[us]"),
            "platform": rng.choice(np.array(["ios", "android", "web"]), n, p=[0.45, 0.35, 0.2]),
            "country": rng.choice(
                np.array(["US", "GB", "DE", "FR", "IN"]), n, p=[0.4, 0.15, 0.15, 0.1, 0.2]
            ),
            "pre_revenue": pre_revenue,
            "sessions": 1 + rng.poisson(p.mean_sessions * w),
            "converted": converted.astype(np.int8),
            "orders": orders.astype(np.int64),
            "revenue": revenue,
        }
    )
