"""What a feature build reads and computes: the spec behind ``sds features build SPEC.yaml``.

Events (one row per entity and time) become one row per entity and label time. Every
feature for a label at time ``t`` uses only events strictly before ``t`` (and, when the spec
names ``available_at``, only events known before ``t``: late arrivals are excluded).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from sds.config import EngineChoice, StrictModel, parse_spec

Function = Literal["nonnull", "sum", "mean", "min", "max", "std", "nunique", "last"]
CalendarPart = Literal["dayofweek", "hour", "month", "weekend", "days_since_first"]
FUNCTIONS: tuple[str, ...] = get_args(Function)
CALENDAR: tuple[str, ...] = get_args(CalendarPart)
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

    column: str = Field(description="The event column aggregated.")
    functions: list[Function] = Field(
        min_length=1,
        description="nonnull (events with a value in the column: <column>_nonnull_<window>), "
        "sum, mean, min, max, std, nunique or last. The number of events is event_count.",
    )

    @field_validator("functions", mode="before")
    @classmethod
    def _no_bare_count(cls, value: Any) -> Any:
        if isinstance(value, list) and "count" in value:
            raise ValueError(
                "'count' is gone because it said neither what it counted: write 'nonnull' "
                "for the events with a value in this column (<column>_nonnull_<window>), or "
                "'event_count: true' at the top of the spec for the number of events "
                "(event_count_<window>)"
            )
        return value


class RFMSpec(StrictModel):
    """Recency (days since the last event), frequency (events) and monetary value (sum of
    ``monetary``), over all history before the label time."""

    monetary: str | None = Field(
        default=None, description="Column summed as the monetary value (else no M)."
    )


class TransformSpec(StrictModel):
    """The fit-able steps (:mod:`sds.features.transform`): which columns of the feature
    table get which treatment; other numeric columns pass through imputed."""

    numeric_impute: Literal["median", "mean", "zero"] = Field(
        default="median", description="How missing numbers are filled: median, mean or zero."
    )
    onehot: list[str] = Field(default_factory=list, description="Columns one-hot encoded.")
    onehot_max: int = Field(default=20, description="Most frequent levels kept per column.")
    frequency: list[str] = Field(
        default_factory=list, description="Columns replaced by their level's frequency."
    )
    target_encode: list[str] = Field(
        default_factory=list, description="Columns target-encoded (out of fold)."
    )
    ratios: list[str] = Field(
        default_factory=list, description='Ratios added, each "numerator/denominator".'
    )
    interactions: list[str] = Field(default_factory=list, description='Products added, each "a*b".')
    text: list[str] = Field(default_factory=list, description="Text columns as TF-IDF.")
    text_max_features: int = Field(default=500, description="TF-IDF terms kept per column.")
    embeddings: list[str] = Field(
        default_factory=list, description="Text columns as sentence embeddings (sds-toolkit[text])."
    )
    embedding_dim: Literal[64, 128, 256] = Field(
        default=64, description="Embedding size: 64, 128 or 256."
    )
    drop: list[str] = Field(default_factory=list, description="Columns left out.")
    critical: list[str] = Field(
        default_factory=list, description="Columns that may be imputed only rarely."
    )
    critical_max_imputed: float = Field(
        default=0.02, description="Largest imputed share of a critical column."
    )


class FeatureSpec(EngineChoice):
    """A point-in-time feature set."""

    kind: Literal["features"] = Field(
        default="features", description="Always features: marks the file as a feature spec."
    )
    name: str = Field(default="features", description="The feature set's name in a store.")
    data: str | None = Field(default=None, description="Events: file, glob or SQL.")
    entity: str = Field(description="Entity (e.g. customer id) column of the events.")
    timestamp: str = Field(description="Event time column.")
    available_at: str | None = Field(
        default=None, description="When each event became known (late arrivals wait for it)."
    )
    labels: str | None = Field(
        default=None, description="Table of entity and label time (a training set)."
    )
    label_time: str = Field(default="label_time", description="Label-time column of labels.")
    cutoff: str | None = Field(
        default=None,
        description="One label time for every entity of the events instead of labels; an "
        "entity without events before it keeps its row (counts 0, the rest missing).",
    )
    windows: list[str] = Field(
        default_factory=lambda: ["7d", "30d", "90d"], description="Windows, e.g. 7d, 12h, 4w."
    )
    aggregations: list[Aggregation] = Field(
        default_factory=list, description="Functions of event columns over every window."
    )
    event_count: bool = Field(
        default=False,
        description="Add event_count_<window>: the number of events in each window, "
        "whatever their values (a column's nonnull counts only events with a value).",
    )
    rfm: RFMSpec | None = Field(default=None, description="Recency, frequency, monetary value.")
    transform: TransformSpec | None = Field(
        default=None, description="The fit-able steps, for FeatureTransformer."
    )
    calendar: list[CalendarPart] = Field(
        default_factory=list,
        description="Parts of the label time; days_since_first is the entity's tenure.",
    )

    @model_validator(mode="after")
    def _valid(self) -> FeatureSpec:
        if (self.labels is None) == (self.cutoff is None):
            raise ValueError(
                "give either 'labels' (a table of entity and label time) or 'cutoff' "
                "(one time for every entity), not both or neither"
            )
        for w in self.windows:
            parse_window(w)
        if not (self.aggregations or self.event_count or self.rfm or self.calendar):
            raise ValueError(
                "the spec asks for no features: add aggregations, event_count, rfm or calendar"
            )
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

    return parse_spec(data, FeatureSpec, source, "a feature spec")
