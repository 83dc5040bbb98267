"""What a feature build reads and computes: the spec behind ``sds features build SPEC.yaml``.

Events (one row per entity and time) become one row per entity and label time. Every
feature for a label at time ``t`` uses only events strictly before ``t`` (and, when the spec
names ``available_at``, only events known before ``t``: late arrivals are excluded).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import Field, model_validator

from sds.config import EngineChoice, StrictModel
from sds.errors import close_matches

FUNCTIONS = ("count", "sum", "mean", "min", "max", "std", "nunique", "last")
CALENDAR = ("dayofweek", "hour", "month", "weekend", "days_since_first")
_WINDOW = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_WINDOW = timedelta(days=36_525)


def parse_window(text: str) -> timedelta:
    """``"30d"`` -> 30 days. Units: m (minutes), h, d, w; at most 100 years."""
    match = _WINDOW.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"window {text!r} is not a duration; write a positive number and a unit, "
            "e.g. 7d, 12h, 4w (units: m, h, d, w)"
        )
    number, unit = int(match.group(1)), _UNITS[match.group(2)]
    if number > MAX_WINDOW / timedelta(**{unit: 1}):  # before timedelta overflows a C int
        raise ValueError(
            f"window {text!r} is longer than {MAX_WINDOW.days:,} days (100 years); "
            "for all history use the 'last' function or rfm"
        )
    return timedelta(**{unit: number})


class Aggregation(StrictModel):
    """Functions of one event column, computed over every window (``last``: all history)."""

    column: str
    functions: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _known(self) -> Aggregation:
        for f in self.functions:
            if f not in FUNCTIONS:
                matches = close_matches(f, FUNCTIONS)
                hint = f"; did you mean {matches[0]!r}?" if matches else ""
                raise ValueError(
                    f"aggregation of {self.column!r}: function {f!r} is not one of "
                    f"{', '.join(FUNCTIONS)}{hint}"
                )
        return self


class RFMSpec(StrictModel):
    """Recency (days since the last event), frequency (events) and monetary value (sum of
    ``monetary``), over all history before the label time."""

    monetary: str | None = None


class TransformSpec(StrictModel):
    """The fit-able steps (:mod:`sds.features.transform`): which columns of the feature
    table get which treatment; other numeric columns pass through imputed."""

    numeric_impute: str = "median"  # or "mean", "zero"

    onehot: list[str] = Field(default_factory=list)
    onehot_max: int = 20
    frequency: list[str] = Field(default_factory=list)
    target_encode: list[str] = Field(default_factory=list)
    ratios: list[str] = Field(default_factory=list)  # "numerator/denominator"
    interactions: list[str] = Field(default_factory=list)
    text: list[str] = Field(default_factory=list)
    text_max_features: int = 500
    embeddings: list[str] = Field(default_factory=list)  # sentence embeddings (sds[text])
    embedding_dim: int = 64  # 64, 128 or 256
    drop: list[str] = Field(default_factory=list)
    critical: list[str] = Field(default_factory=list)
    critical_max_imputed: float = 0.02

    @model_validator(mode="after")
    def _choices(self) -> TransformSpec:
        if self.numeric_impute not in ("median", "mean", "zero"):
            raise ValueError(
                f"numeric_impute == {self.numeric_impute!r}, must be median, mean or zero"
            )
        if self.embedding_dim not in (64, 128, 256):
            raise ValueError(f"embedding_dim == {self.embedding_dim}, must be 64, 128 or 256")
        return self


class FeatureSpec(EngineChoice):
    """A point-in-time feature set."""

    kind: str = "features"
    name: str = "features"
    data: str | None = None  # events: file, glob or SQL
    entity: str
    timestamp: str
    available_at: str | None = None  # when each event became known (late arrivals)
    labels: str | None = None  # table of entity + label time (point-in-time training set)
    label_time: str = "label_time"
    cutoff: str | None = None  # one label time for every entity instead of a label table
    windows: list[str] = Field(default_factory=lambda: ["7d", "30d", "90d"])
    aggregations: list[Aggregation] = Field(default_factory=list)
    rfm: RFMSpec | None = None
    transform: TransformSpec | None = None  # the fit-able steps, for FeatureTransformer
    calendar: list[str] = Field(default_factory=list)  # parts of the label time, and
    # days_since_first: days from the entity's first event to the label time (tenure)

    @model_validator(mode="after")
    def _valid(self) -> FeatureSpec:
        if self.kind != "features":
            raise ValueError(f"kind == {self.kind!r}, a feature spec has kind: features")
        if (self.labels is None) == (self.cutoff is None):
            raise ValueError(
                "give either 'labels' (a table of entity and label time) or 'cutoff' "
                "(one time for every entity), not both or neither"
            )
        for w in self.windows:
            parse_window(w)
        for part in self.calendar:
            if part not in CALENDAR:
                raise ValueError(f"calendar part {part!r} is not one of {', '.join(CALENDAR)}")
        if not (self.aggregations or self.rfm or self.calendar):
            raise ValueError("the spec asks for no features: add aggregations, rfm or calendar")
        return self

    @property
    def window_lengths(self) -> dict[str, timedelta]:
        return {w.strip(): parse_window(w) for w in self.windows}

    @property
    def event_columns(self) -> list[str]:
        named = [self.entity, self.timestamp, *([self.available_at] if self.available_at else [])]
        named += [a.column for a in self.aggregations]
        if self.rfm and self.rfm.monetary:
            named.append(self.rfm.monetary)
        return list(dict.fromkeys(named))


def parse(data: dict[str, Any] | FeatureSpec, source: str = "spec") -> FeatureSpec:
    """A validated spec from a mapping (YAML/JSON) or a spec."""
    from sds.config import parse_spec

    return parse_spec(data, FeatureSpec, source, "a feature spec")
