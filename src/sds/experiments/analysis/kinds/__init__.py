"""Metric kinds: one module per kind (proportion, mean, ratio, quantile), a base class and a
registry. See :mod:`sds.experiments.analysis.kinds.base`."""

from sds.experiments.analysis.kinds.base import Metric, MetricKind, Options
from sds.experiments.analysis.kinds.registry import get, names, register, unregister

__all__ = ["Metric", "MetricKind", "Options", "get", "names", "register", "unregister"]
