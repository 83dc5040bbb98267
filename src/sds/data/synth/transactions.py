"""A customer transaction log over months, for RFM and rolling-window features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sds.params import Interval, check

_START = "2025-01-01T00:00:00"
CATEGORIES = ("grocery", "electronics", "fashion", "home", "beauty", "sports")
CHANNELS = ("web", "app", "store")


@dataclass(frozen=True)
class TransactionParams:
    """True parameters of :func:`sds.data.synth.make_transactions`.

    Customer ``i`` signs up at a uniform time in the first half of the period and buys at
    rate ``lambda_i ~ Gamma(rate_shape, mean_per_month / rate_shape)`` per month (30 days)
    until the end, so the expected number of rows is about
    ``n_customers * mean_per_month * 0.75 * months``. Amounts are LogNormal with a
    per-customer mean drawn around ``mean_amount``; ``customer_id`` is the entity key and
    ``ts`` the event time (UTC, naive).
    """

    n_customers: int = 10_000
    months: int = 12
    mean_per_month: float = 1.5
    rate_shape: float = 1.0
    mean_amount: float = 35.0
    amount_sigma: float = 0.7

    def __post_init__(self) -> None:
        check("n_customers", self.n_customers, Interval(1, None, integer=True))
        check("months", self.months, Interval(1, None, integer=True))
        check("mean_per_month", self.mean_per_month, Interval(0.0, None, low_open=True))
        check("rate_shape", self.rate_shape, Interval(0.0, None, low_open=True))
        check("mean_amount", self.mean_amount, Interval(0.0, None, low_open=True))
        check("amount_sigma", self.amount_sigma, Interval(0.0, None))


def transactions_block(p: TransactionParams, rng: Any, start: int, n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    span = p.months * 30 * 86_400
    signup = rng.integers(0, span // 2, n)
    active_months = (span - signup) / (30 * 86_400)
    rate = rng.gamma(p.rate_shape, p.mean_per_month / p.rate_shape, n)
    counts = rng.poisson(rate * active_months)
    owner = np.repeat(np.arange(n), counts)
    offsets = signup[owner] + (rng.random(owner.shape[0]) * (span - signup[owner])).astype(np.int64)
    order = np.lexsort((offsets, owner))
    owner, offsets = owner[order], offsets[order]
    customer_mean = p.mean_amount * rng.lognormal(-0.125, 0.5, n)
    mu = np.log(customer_mean[owner]) - p.amount_sigma**2 / 2
    ts = np.datetime64(_START, "s") + offsets.astype("timedelta64[s]")
    # Sequence number within the customer: unique ids without coordination across blocks.
    sequence = np.arange(owner.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    return pa.table(
        {
            "transaction_id": (start + owner).astype(np.int64) * 10_000 + sequence,
            "customer_id": (start + owner).astype(np.int64),
            "ts": ts.astype("datetime64[us]"),
            "amount": np.round(rng.lognormal(mu, p.amount_sigma), 2),
            "category": rng.choice(np.array(CATEGORIES), owner.shape[0]),
            "channel": rng.choice(np.array(CHANNELS), owner.shape[0], p=[0.5, 0.35, 0.15]),
        }
    )
