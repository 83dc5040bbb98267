"""A churn-style classification table with known coefficients and planted problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sds.params import Interval, check

CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENTS = ("card", "bank-transfer", "paypal", "invoice")
REGIONS = ("north", "south", "east", "west")


@dataclass(frozen=True)
class ChurnParams:
    """True parameters of :func:`sds.data.synth.make_churn`.

    ``churned`` is Bernoulli with ``logit = intercept + sum(coef * feature)`` over
    ``coefficients`` (features: ``tenure_months``, ``monthly_charges``, ``support_calls``,
    ``last_login_days``, ``month_to_month`` (contract), ``region_south``).

    Planted for the checks that must find them:

    - ``customer_id``: ID-like (unique string);
    - ``zip_code``: high cardinality (about ``n_zip_codes`` levels);
    - ``satisfaction``: ``satisfaction_null_share`` nulls (informative, keep it);
    - ``referral_code``: over 95% null (``referral_share`` filled);
    - ``country``: constant (``"US"``);
    - ``monthly_fee``: an exact duplicate of ``monthly_charges``;
    - ``retention_call``: leaky, recorded after the outcome: equals ``churned`` except in
      ``leak_noise`` of rows;
    - ``gender``: protected attribute. Customers with ``gender == "F"`` live in the south
      region three times as often, and ``region_south`` raises churn, so a model's selection rate
      differs by gender through a proxy (unfairness to be reported, not a true effect).
    """

    n_rows: int = 10_000
    intercept: float = -2.8
    coefficients: dict[str, float] = field(
        default_factory=lambda: {
            "tenure_months": -0.04,
            "monthly_charges": 0.02,
            "support_calls": 0.35,
            "last_login_days": 0.03,
            "month_to_month": 1.1,
            "region_south": 0.9,
        }
    )
    n_zip_codes: int = 5_000
    satisfaction_null_share: float = 0.2
    referral_share: float = 0.02
    leak_noise: float = 0.02

    def __post_init__(self) -> None:
        check("n_rows", self.n_rows, Interval(1, None, integer=True))
        check("n_zip_codes", self.n_zip_codes, Interval(1, None, integer=True))
        for name in ("satisfaction_null_share", "referral_share", "leak_noise"):
            check(name, getattr(self, name), Interval(0.0, 1.0))


def churn_block(p: ChurnParams, rng: Any, start: int, n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    female = rng.random(n) < 0.5
    south = rng.random(n) < np.where(female, 0.45, 0.15)
    region = np.where(south, "south", rng.choice(np.array(["north", "east", "west"]), n))
    contract = rng.choice(np.array(CONTRACTS), n, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(1, 73, n)
    monthly = np.round(rng.normal(65, 20, n).clip(15, 150), 2)
    calls = rng.poisson(1.2, n)
    login = rng.exponential(10, n).round().astype(np.int64)
    features = {
        "tenure_months": tenure,
        "monthly_charges": monthly,
        "support_calls": calls,
        "last_login_days": login,
        "month_to_month": contract == CONTRACTS[0],
        "region_south": south,
    }
    logit = p.intercept + sum(p.coefficients[k] * np.asarray(v, float) for k, v in features.items())
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    satisfaction = np.clip(np.round(rng.normal(4 - 1.5 * churned, 1.0)), 1, 5)
    flip = rng.random(n) < p.leak_noise
    ids = np.arange(start, start + n)
    return pa.table(
        {
            "customer_id": np.char.add("C", np.char.zfill(ids.astype(str), 9)),
            "gender": np.where(female, "F", "M"),
            "age": rng.integers(18, 80, n),
            "region": region,
            "zip_code": np.char.zfill(rng.integers(0, p.n_zip_codes, n).astype(str), 5),
            "contract": contract,
            "payment_method": rng.choice(np.array(PAYMENTS), n),
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": np.round(monthly * tenure * rng.normal(1, 0.05, n), 2),
            "support_calls": calls,
            "last_login_days": login,
            "satisfaction": pa.array(satisfaction, mask=rng.random(n) < p.satisfaction_null_share),
            "referral_code": pa.array(
                np.char.add("R", rng.integers(1000, 9999, n).astype(str)),
                mask=rng.random(n) >= p.referral_share,
            ),
            "country": np.full(n, "US"),
            "monthly_fee": monthly,
            "retention_call": np.where(flip, ~churned, churned).astype(np.int8),
            "churned": churned.astype(np.int8),
        }
    )
