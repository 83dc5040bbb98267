"""``sds reproduce RUN_ID``: retrain from a logged run and confirm its metrics.

The run's logged config is replayed with its seed and, for every tuned candidate, the
number of trials that actually ran (so a run cut short by a timeout replays the same
trials, with no timeout). The data must have the same fingerprint as when the run was
logged; then every logged test metric must match to ``tolerance`` (1e-9).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any, ClassVar

from sds.errors import AnalysisError, DataError
from sds.models.records import Record, plain
from sds.models.run import train_model
from sds.models.tracking import fetch_run, flat, resolved
from sds.results import KeyValue, Result, Section, jsonable_dict, records_table


@dataclass(frozen=True)
class MetricCheck(Record):
    """One logged test metric against the retrained model's."""

    metric: str
    logged: float
    reproduced: float
    difference: float
    match: bool


@dataclass(frozen=True)
class Reproduction(Result):
    title: ClassVar[str] = "Reproduction"
    run_id: str
    tolerance: float
    rows: tuple[MetricCheck, ...]

    @property
    def matched(self) -> bool:
        return all(r.match for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        worst = max((r.difference for r in self.rows), default=0.0)
        return jsonable_dict(
            {
                "run_id": self.run_id,
                "matched": self.matched,
                "tolerance": self.tolerance,
                "max_difference": worst,
                "metrics": plain(self.rows),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        head = [(k, v) for k, v in d.items() if k != "metrics"]
        return [KeyValue("Reproduction", head), records_table("Metrics", d["metrics"])]


def reproduce(
    run_id: str, tracking_uri: str | None = None, tolerance: float = 1e-9
) -> Reproduction:
    """Retrain run ``run_id`` (from the default store unless ``tracking_uri``)."""
    config, logged, tags = fetch_run(resolved(tracking_uri), run_id)
    config["tuning"] = {**config.get("tuning", {}), "timeout": None}
    with tempfile.TemporaryDirectory() as tmp:
        result = train_model(config, output=tmp, track=False)
    fingerprint = result.run.data_fingerprint
    if fingerprint != tags.get("sds.data_fingerprint"):
        raise DataError(
            "the data changed since the run was logged",
            source=config.get("data"),
            found=f"fingerprint {fingerprint}",
            expected=f"fingerprint {tags.get('sds.data_fingerprint')}",
        )
    now = flat("test", result.evaluation.to_dict()["metrics"])
    rows = []
    for key, value in sorted(logged.items()):
        if not key.startswith("test."):
            continue
        if key not in now:
            raise AnalysisError(f"the retrained model has no metric {key!r}")
        difference = abs(float(now[key]) - value)
        rows.append(MetricCheck(key, value, float(now[key]), difference, difference <= tolerance))
    return Reproduction(run_id, tolerance, tuple(rows))
