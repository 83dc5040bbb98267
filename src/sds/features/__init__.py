"""Feature engineering: profiling, point-in-time feature tables, selection, alignment and
the feature store.

:func:`run` is the package's entry point in the public namespace's argument order,
``sds.features.run(events, spec, labels=...)`` (see :mod:`sds`).
"""

from sds.features.api import run

__all__ = ["run"]
