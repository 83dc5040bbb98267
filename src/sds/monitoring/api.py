"""The monitoring entry point of the public namespace, ``sds.monitor``, in the namespace's
one argument order (see :mod:`sds`): the data first, then what it is compared with, then
keyword-only options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sds.monitoring.report import MonitorResult
from sds.monitoring.report import monitor as _compare


def monitor(
    data: Any,
    reference: Any,
    /,
    *,
    features: Sequence[str] | None = None,
    bins: int = 10,
    psi_warn: float = 0.1,
    psi_alert: float = 0.2,
) -> MonitorResult:
    """Drift of `data` (the current rows or a request log table) from `reference` (the
    training rows): PSI and KS per feature, output drift and, from a log, service figures.

    Args:
        data: The current rows, or a request log written by the model server (inputs as
            `in_<feature>`); a DataFrame, path, SQL query or `Table`.
        reference: The training rows, in the same forms.
        features: Columns to compare; `None` compares every reference column the current
            data also has, except log bookkeeping columns and text columns that look like
            identifiers or free text (distinct values in more than half of the
            reference's non-null rows, and more than 1,000), which the result lists under
            `skipped` (see `sds.monitoring.identifiers`).
        bins: Number of bins for numeric features, cut at the reference's quantiles.
        psi_warn: PSI at or above which a feature is reported as drifting (default 0.1,
            the usual rule of thumb).
        psi_alert: PSI at or above which a feature alerts (default 0.2); at least
            `psi_warn`.

    Returns:
        Per feature the PSI, the KS test (numeric) and a status, sorted by PSI; the
            drift of `prediction` when both have it; from a log, request counts and rates
            by outcome (answered, refused, errors) and latency.

    Raises:
        ParameterError: `bins` or a threshold out of range, or `psi_alert < psi_warn`.
        DataError: A named feature is missing, or the two share no feature column.
    """
    return _compare(
        reference,
        data,
        features=list(features) if features is not None else None,
        bins=bins,
        psi_warn=psi_warn,
        psi_alert=psi_alert,
    )
