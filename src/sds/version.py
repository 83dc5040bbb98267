"""The package version, in one place below everything that records it (``sds.__version__``,
``sds --version``, the feature store's version rows, the training run's environment) and
read by the build (``pyproject.toml``: the ``sds-toolkit`` distribution's version)."""

from __future__ import annotations

__version__ = "0.1.0"
