"""Global defaults in a ContextVar, and validated YAML/JSON config files.

``get_settings()`` returns the defaults in force; ``settings(...)`` overrides some of them for
a ``with`` block (safe under threads and async tasks). ``load_config(path, Model)`` reads a
YAML or JSON file into a pydantic model and turns every validation problem into one
:class:`~sds.errors.ConfigError` that names the file, the key and, for a misspelled key, the
key that was probably meant.

The settings and file reading (:mod:`sds.config.core`) are imported at once; the spec base
and validation (:mod:`sds.config.specs`, which imports pydantic) on first use (PEP 562), so
a command that builds no spec (``sds --help``, ``sds srm``) does not pay for pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sds.config.core import Settings as Settings
from sds.config.core import engine_scope as engine_scope
from sds.config.core import get_settings as get_settings
from sds.config.core import literal_choices as literal_choices
from sds.config.core import read_mapping as read_mapping
from sds.config.core import restore_settings as restore_settings
from sds.config.core import settings as settings
from sds.config.core import use_settings as use_settings

if TYPE_CHECKING:
    from sds.config.specs import EngineChoice as EngineChoice
    from sds.config.specs import StrictModel as StrictModel
    from sds.config.specs import field_rules as field_rules
    from sds.config.specs import load_config as load_config
    from sds.config.specs import parameter_error as parameter_error
    from sds.config.specs import parse_spec as parse_spec
    from sds.config.specs import validate_mapping as validate_mapping

_SPECS = (
    "EngineChoice",
    "StrictModel",
    "field_rules",
    "load_config",
    "parameter_error",
    "parse_spec",
    "validate_mapping",
)


def __getattr__(name: str) -> Any:
    if name not in _SPECS:
        raise AttributeError(f"module 'sds.config' has no attribute {name!r}")
    value = getattr(importlib.import_module("sds.config.specs"), name)
    globals()[name] = value
    return value
