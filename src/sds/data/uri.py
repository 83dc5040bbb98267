"""What counts as a URI: a path with a scheme (``hdfs://``, ``s3a://``, ``file://`` ...).

Both readers need it: :mod:`sds.data.io` hands such paths to the engine untouched, and
:mod:`sds.data.spark` leaves their CSV types to Spark's own inference. Writers ask
:func:`output_target` where an output goes: to Spark's own writer, or to a local file.
"""

from __future__ import annotations

import re
from pathlib import Path

from sds.errors import InputError

URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# a URI that went through pathlib.Path, which folds "//" into "/" ("s3a:/bucket/key")
_FOLDED_URI = re.compile(r"^(file|hdfs|s3a?|s3n|gs|abfss?|wasbs?|viewfs|dbfs):/(?!/)")


def output_target(path: str | Path, *, spark: bool) -> str | Path:
    """Where a data output goes: a URI (a `str`) for Spark's writer, else a local path.

    Args:
        path: The output as given; a URI must come as a string (a `Path` folds its `//`).
        spark: Whether the engine is Spark, which writes to any URI its cluster reaches.

    Returns:
        The URI untouched for Spark; for DuckDB a `file://` URI as the local path it names;
            any other path as a `Path`.

    Raises:
        InputError: A URI other than `file://` with DuckDB, or a URI folded by `Path`.
    """
    text = str(path)
    if isinstance(path, Path) and _FOLDED_URI.match(text):
        raise InputError(
            "looks like a URI whose '//' was lost by pathlib.Path",
            source=text,
            hint="Pass the URI as a string.",
        )
    if not URI.match(text):
        return Path(path)
    if spark:
        return text
    if text.startswith("file://"):
        return Path(text.removeprefix("file://"))  # DuckDB writes plain local paths
    raise InputError(
        "only --engine spark writes to URIs; DuckDB writes local files",
        source=text,
        hint="Add --engine spark, or write to a local path (or a file:// URI).",
    )
