"""The metric kinds an analysis spec may name, by name."""

from __future__ import annotations

from sds.errors import close_matches
from sds.experiments.analysis.kinds.base import MetricKind
from sds.experiments.analysis.kinds.mean import Mean
from sds.experiments.analysis.kinds.proportion import Proportion
from sds.experiments.analysis.kinds.quantile import Quantile
from sds.experiments.analysis.kinds.ratio import Ratio

_KINDS: dict[str, MetricKind] = {k.name: k for k in (Proportion(), Mean(), Ratio(), Quantile())}


def register(kind: MetricKind) -> MetricKind:
    """Make ``kind`` available to specs under ``kind.name``; returns it."""
    if kind.name in _KINDS and type(_KINDS[kind.name]) is not type(kind):
        raise ValueError(f"a metric kind named {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Forget the kind ``name`` (tests that register a kind of their own clean up)."""
    _KINDS.pop(name, None)


def names() -> tuple[str, ...]:
    return tuple(_KINDS)


def get(name: str) -> MetricKind:
    """The kind ``name``; a ValueError listing the kinds (and the closest) otherwise."""
    if name in _KINDS:
        return _KINDS[name]
    matches = close_matches(name, names())
    hint = f"; did you mean {matches[0]!r}?" if matches else ""
    raise ValueError(f"type == {name!r}, must be one of: {', '.join(names())}{hint}")
