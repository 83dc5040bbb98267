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
    """Drift of ``data`` (the current rows or a request log table) from ``reference`` (the
    training rows): PSI and KS per feature, output drift and, from a log, service figures."""
    return _compare(
        reference,
        data,
        features=list(features) if features is not None else None,
        bins=bins,
        psi_warn=psi_warn,
        psi_alert=psi_alert,
    )
