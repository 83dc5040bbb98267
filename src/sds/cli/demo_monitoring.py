"""The demo's monitoring chapters (``sds monitor``): the churn model's training rows
against a copy with a planted shift (charges up 15% and one more support call), and against
the requests the live server answered in the canary chapter (its request log: input and
output drift, latency and errors)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

SHIFTED = ("monthly_charges", "support_calls")


def monitoring_chapters(output: Path, seed: int) -> list[Any]:
    """Drift after a planted shift; then the served requests, when a log was written."""
    from sds.monitoring.report import monitor
    from sds.report.assemble import Chapter

    reference = output / "data" / "churn_sample.parquet"
    shifted = output / "data" / "churn_shifted.parquet"
    _write_shifted(reference, shifted, seed)
    features = ["tenure_months", *SHIFTED, "contract", "region"]
    _say(f"monitoring: sds monitor --reference {reference} --data {shifted}")
    drift = monitor(str(reference), str(shifted), features=features)
    _say(f"  planted shift in {', '.join(SHIFTED)}; alerts: {', '.join(drift.alerts) or 'none'}")
    chapters = [Chapter("Monitoring: drift after a planted shift", drift, "monitor_drift.json")]
    log = output / "serving" / "log"
    if any(log.glob("*.parquet")):
        _say(f"monitoring: sds monitor --reference {reference} --data {log}")
        served = monitor(str(reference), str(log / "*.parquet"))
        chapters.append(
            Chapter("Monitoring: the served requests (request log)", served, "monitor_log.json")
        )
    return chapters


def _write_shifted(reference: Path, shifted: Path, seed: int) -> None:
    """A copy of the rows with monthly charges 15% higher and one more support call."""
    import pandas as pd

    rows = pd.read_parquet(reference).sample(frac=0.5, random_state=seed)
    rows["monthly_charges"] = rows["monthly_charges"] * 1.15
    rows["support_calls"] = rows["support_calls"] + 1
    rows.to_parquet(shifted)


def _say(text: str) -> None:
    print(text, file=sys.stderr)
