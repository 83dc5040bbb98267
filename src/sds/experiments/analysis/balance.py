"""Pre-experiment balance: standardized mean differences of the covariates between arms.

SMD = (mean_t - mean_c) / sqrt((var_t + var_c) / 2) (Austin 2009); |SMD| above 0.1 is the
usual flag. With randomization working, covariates measured before assignment differ only
by chance; a large SMD points to broken assignment or a covariate that is not pre-period.
"""

from __future__ import annotations

import math

from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.records import Balance


def balance(
    covariates: list[str], control: Moments, arms: dict[str, Moments], threshold: float
) -> list[Balance]:
    rows = []
    for column in covariates:
        for arm, m in arms.items():
            pooled = math.sqrt((control.var(column) + m.var(column)) / 2)
            diff = m.mean(column) - control.mean(column)
            smd = diff / pooled if pooled > 0 else 0.0
            rows.append(
                Balance(
                    covariate=column,
                    variant=arm,
                    mean_control=control.mean(column),
                    mean_treatment=m.mean(column),
                    smd=smd,
                    balanced=abs(smd) <= threshold,
                )
            )
    return rows
