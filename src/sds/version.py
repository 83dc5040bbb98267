"""The package version, in one place below everything that records it (``sds.__version__``,
the feature store's version rows)."""

from __future__ import annotations

__version__ = "0.1.0"
