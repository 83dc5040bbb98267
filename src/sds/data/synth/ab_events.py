"""An event-level A/B test (one row per session) with a fading novelty effect and an optional
segment logging bug: the data an analysis must see through."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sds.params import PROBABILITY_OPEN, SHARE, Interval, check

_START = "2026-03-02T00:00:00"
PLATFORMS = ("ios", "android", "web")
PLATFORM_SHARES = (0.45, 0.35, 0.20)


@dataclass(frozen=True)
class ABEventsParams:
    """True parameters of the ``ab_events`` generator.

    Users arrive uniformly over the first ``arrival_days`` days and are followed until day
    ``days``. Each has an engagement ``w ~ Gamma(shape, 1/shape)`` (mean 1). On the day of
    arrival (day 0 since exposure) a user has ``1 + Poisson(sessions_per_day * w)`` sessions,
    on each later day ``Poisson(sessions_per_day * w)``. A control session converts (one
    order) with probability ``conversion``; a treatment session on day ``k`` since exposure
    with ``conversion * (1 + lift + novelty_lift * exp(-k / novelty_days))``: a long-run lift
    of ``lift`` and an extra lift that fades. Orders are worth ``LogNormal`` with mean
    ``mean_order_value``. ``pre_revenue`` is the same process over ``pre_days`` days before
    the test (the CUPED covariate). A share ``mislabel_share`` of treatment users on android
    are logged with platform ``web`` (a logging bug that shifts the treatment's platform mix
    without changing anyone's behaviour).
    """

    n_users: int = 50_000
    days: int = 21
    arrival_days: int = 7
    sessions_per_day: float = 0.6
    conversion: float = 0.05
    lift: float = 0.05
    novelty_lift: float = 0.30
    novelty_days: float = 3.0
    treatment_share: float = 0.5
    engagement_shape: float = 1.5
    pre_days: int = 28
    mean_order_value: float = 40.0
    order_value_sigma: float = 0.6
    mislabel_share: float = 0.0

    def __post_init__(self) -> None:
        check("n_users", self.n_users, Interval(1, None, integer=True))
        check("days", self.days, Interval(1, None, integer=True))
        check("arrival_days", self.arrival_days, Interval(1, self.days, integer=True))
        check("sessions_per_day", self.sessions_per_day, Interval(0.0, None, low_open=True))
        check("conversion", self.conversion, PROBABILITY_OPEN)
        check("lift", self.lift, Interval(-1.0, None, low_open=True))
        check("novelty_lift", self.novelty_lift, Interval(-1.0, None))
        check("novelty_days", self.novelty_days, Interval(0.0, None, low_open=True))
        check("treatment_share", self.treatment_share, PROBABILITY_OPEN)
        check("engagement_shape", self.engagement_shape, Interval(0.0, None, low_open=True))
        check("pre_days", self.pre_days, Interval(1, None, integer=True))
        check("mislabel_share", self.mislabel_share, Interval(0.0, 1.0))
        check("conversion", self.conversion * (1 + self.lift + max(self.novelty_lift, 0)), SHARE)

    def lift_on_day(self, k: int) -> float:
        """The true relative lift in per-session conversion on day `k` since exposure.

        Args:
            k: Whole days since the user's first exposure (0 is the day of arrival).

        Returns:
            `lift + novelty_lift * exp(-k / novelty_days)`: e.g. 0.1 means treatment
                sessions convert 10% more often than control sessions on that day.
        """
        return self.lift + self.novelty_lift * math.exp(-k / self.novelty_days)

    @property
    def pooled_lift(self) -> float:
        """The true relative lift in orders per session over the whole test: the daily lifts
        weighted by expected sessions on each day since exposure."""
        weights = [0.0] * self.days
        for a in range(self.arrival_days):  # arrival day, each equally likely
            for k in range(self.days - a):
                weights[k] += self.sessions_per_day + (1.0 if k == 0 else 0.0)
        total = sum(weights)
        return sum(w * self.lift_on_day(k) for k, w in enumerate(weights)) / total


def ab_events_block(p: ABEventsParams, rng: Any, start: int, n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    w = rng.gamma(p.engagement_shape, 1.0 / p.engagement_shape, n)
    treated = rng.random(n) < p.treatment_share
    arrival = rng.integers(0, p.arrival_days, n)
    platform = rng.choice(len(PLATFORMS), n, p=PLATFORM_SHARES)
    bug = treated & (platform == 1) & (rng.random(n) < p.mislabel_share)
    platform = np.where(bug, 2, platform)
    pre_sessions = rng.poisson(p.pre_days * p.sessions_per_day * w)
    pre_orders = rng.binomial(pre_sessions, p.conversion)
    pre_revenue = _order_values(rng, p, pre_orders)
    # user-days: one row per user and day since exposure, up to the end of the test
    span = p.days - arrival
    user = np.repeat(np.arange(n), span)
    k = np.arange(user.shape[0]) - np.repeat(np.cumsum(span) - span, span)
    sessions = rng.poisson(p.sessions_per_day * w[user]) + (k == 0)
    # sessions: one row per session
    owner, day = np.repeat(user, sessions), np.repeat(k, sessions)
    lift = np.where(treated[owner], p.lift + p.novelty_lift * np.exp(-day / p.novelty_days), 0)
    orders = (rng.random(owner.shape[0]) < p.conversion * (1 + lift)).astype(np.int64)
    seconds = (arrival[owner] + day) * 86_400 + rng.integers(0, 86_400, owner.shape[0])
    ts = np.datetime64(_START, "s") + seconds.astype("timedelta64[s]")
    order = np.lexsort((ts, owner))  # each user's sessions in time order
    owner, orders, ts = owner[order], orders[order], ts[order]
    return pa.table(
        {
            "user_id": (start + owner).astype(np.int64),
            "variant": np.where(treated[owner], "treatment", "control"),
            "platform": np.array(PLATFORMS)[platform[owner]],
            "ts": ts.astype("datetime64[us]"),
            "pre_revenue": pre_revenue[owner],
            "sessions": np.ones(owner.shape[0], dtype=np.int64),
            "orders": orders,
            "converted": orders.astype(np.int8),
            "revenue": _order_values(rng, p, orders),
        }
    )


def _order_values(rng: Any, p: ABEventsParams, orders: Any) -> Any:
    """Total value of each row's orders (log-normal per order, mean ``mean_order_value``)."""
    import numpy as np

    mu = np.log(p.mean_order_value) - p.order_value_sigma**2 / 2
    owner = np.repeat(np.arange(orders.shape[0]), orders)
    values = rng.lognormal(mu, p.order_value_sigma, owner.shape[0])
    return np.round(np.bincount(owner, weights=values, minlength=orders.shape[0]), 2)
