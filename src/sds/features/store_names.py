"""Feature-set names and versions, which the store uses as folder names.

A name is checked at every entry (spec, command line, Python), so it is always exactly one
folder directly under the store root: no separators, no ``.`` or ``..``, nothing empty or
too long, and no second spelling of the same folder (the name is its own canonical form).
Every path the store writes, deletes or reads is proven to be inside the store first.
"""

from __future__ import annotations

import re
from pathlib import Path

from sds.errors import DataError, ParameterError

MAX_NAME = 100
ALLOWED = f"1 to {MAX_NAME} letters, digits, '_', '.' or '-', starting with a letter or digit"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_VERSION = re.compile(r"v?([0-9]{1,9})")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_name(name: object, parameter: str = "name") -> str:
    """``name`` if it can name a feature set; else a ParameterError naming ``parameter``."""
    if not isinstance(name, str) or len(name) > MAX_NAME or not _NAME.fullmatch(name):
        raise ParameterError(
            f"feature set name {_shown(name)} cannot be used",
            parameter=parameter,
            expected=ALLOWED,
            hint="The name is the set's own folder in the store, never a path.",
        )
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``name`` (None: the latest), ``name@vN`` or ``name@N`` -> (name, N)."""
    name, at, wanted = ref.partition("@")
    check_name(name, "ref")
    if not at:
        return name, None
    match = _VERSION.fullmatch(wanted)
    if not match or int(match.group(1)) == 0:
        raise ParameterError(
            f"version {_shown(wanted)} of {name!r} is not a version number",
            parameter="ref",
            expected="name, name@vN or name@N with N a whole number from 1",
        )
    return name, int(match.group(1))


def inside(root: Path, path: Path) -> Path:
    """``path`` resolved, if it lies strictly inside the store ``root`` and no link below
    the root leads there (so no two paths reach one folder)."""
    base = root.resolve()
    full = path.resolve()
    try:
        plain = base / path.relative_to(root)
    except ValueError:
        plain = None
    if full == base or plain != full or not full.is_relative_to(base):
        raise DataError(
            f"{path} is outside the feature store or reached through a link",
            source=str(root),
            hint="The store reads and writes only plain folders inside itself; "
            "check for links or a tampered registry.",
        )
    return full
