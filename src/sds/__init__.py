"""sds: the daily work of a senior data scientist, done correctly and fast.

The public API is imported lazily, so ``import sds`` and ``sds --help`` stay fast::

    import sds
    table = sds.open_table("events.parquet")
    report = sds.profile(table)
    print(report.summary())
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "open_table": ("sds.data.io", "open_table"),
    "Table": ("sds.data.io", "Table"),
    "Engine": ("sds.data.engine", "Engine"),
    "profile": ("sds.features.profile", "profile"),
    "analyze": ("sds.experiments.analysis.run", "analyze"),
    "AnalysisSpec": ("sds.experiments.analysis.spec", "AnalysisSpec"),
    "Profile": ("sds.features.profile_result", "Profile"),
    "ProfileOptions": ("sds.features.profile_result", "ProfileOptions"),
    "Result": ("sds.results", "Result"),
    "settings": ("sds.config", "settings"),
    "get_settings": ("sds.config", "get_settings"),
    "SdsError": ("sds.errors", "SdsError"),
    "InputError": ("sds.errors", "InputError"),
    "DataError": ("sds.errors", "DataError"),
    "ParameterError": ("sds.errors", "ParameterError"),
    "ConfigError": ("sds.errors", "ConfigError"),
    "AnalysisError": ("sds.errors", "AnalysisError"),
    "data": ("sds.data", None),
    "stats": ("sds.stats", None),
    "causal": ("sds.causal", None),
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sds' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
