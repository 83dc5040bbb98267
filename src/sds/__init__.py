"""sds: the daily work of a senior data scientist, done correctly and fast.

The public API is imported lazily, so ``import sds`` and ``sds --help`` stay fast::

    import sds
    table = sds.open_table("events.parquet")
    report = sds.profile(table)
    print(report.summary())

Entry points, one per job, with ONE argument order: the data first where the job reads a
table (a DataFrame, a path or glob, SQL, or a :class:`Table`; ``None`` where the spec names
its data), then the spec or the required columns, positionally; every other option is
keyword-only and named as in the spec, the YAML keys and (in kebab-case) the CLI::

    sds.design(spec, **options)                     # plans read no table: the spec first
    sds.assign(data, experiment, variants, *, shares=...)
    sds.srm(data, variant_column, date_column, *, variants=..., alpha=...)  # or counts
    sds.analyze(data, spec)
    sds.stats.run(data, spec)                       # and sds.stats.ttest(...), ...
    sds.causal.run(data, method, **columns_and_options)  # and sds.causal.ipw(data, ...), ...
    sds.features.run(data, spec, *, labels=...)     # -> (summary, feature table)
    sds.train(data, config, *, model_dir=...)
    sds.evaluate(data, model, *, config=...)
    sds.monitor(data, reference, *, features=...)

``sds.stats``, ``sds.causal`` and ``sds.features`` are packages (a module cannot be called,
and ``import sds.stats.ttest`` must keep working), so their entry point is their ``run``.
Each returns a result (:class:`sds.results.Result`): ``to_dict()``, ``to_json()``,
``to_text()``, ``to_markdown()``, ``to_html()``, ``to_pandas()``, and an HTML fragment in
notebooks.
"""

from __future__ import annotations

import importlib
from typing import Any

from sds.version import __version__

_LAZY = {
    "open_table": ("sds.data.io", "open_table"),
    "Table": ("sds.data.table", "Table"),
    "Engine": ("sds.data.engine", "Engine"),
    "profile": ("sds.features.profile", "profile"),
    "design": ("sds.experiments.api", "design"),
    "assign": ("sds.experiments.api", "assign"),
    "srm": ("sds.experiments.api", "srm"),
    "analyze": ("sds.experiments.api", "analyze"),
    "train": ("sds.models.api", "train"),
    "evaluate": ("sds.models.api", "evaluate"),
    "monitor": ("sds.monitoring.api", "monitor"),
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
    "features": ("sds.features", None),
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
