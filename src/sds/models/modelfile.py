"""Model files: a fitted pipeline saved with its SHA-256 and a signature, both checked before
it is loaded.

A saved model is a folder with ``model.joblib`` (the fitted scikit-learn pipeline) and
``model.json`` (what the model needs and promises: task, target, input columns and types,
classes, decision threshold, the SHA-256 of ``model.joblib``, the run that made it, and an
HMAC-SHA256 signature of both files, see :mod:`sds.models.signing`). Loading unpickles only
a file whose hash matches and whose signature verifies under this user's key, so a
corrupted, swapped or crafted file is refused before any of its code can run; a file
without a ``model.json`` beside it is refused as unknown; ``trust=True`` (``--trust-model``)
loads an unsigned model from elsewhere, with a warning. ``sds train`` writes a whole new
version beside the current one and switches to it in one step (:mod:`sds.models.versions`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sds.errors import DataError
from sds.models.signing import check, sign
from sds.report.files import write_atomic

MODEL_FILE = "model.joblib"
META_FILE = "model.json"
FAULT_ENV = "SDS_MODEL_FAULT"  # test hook: die at a named step of saving a model


def fault(step: str) -> None:
    """Die here, as if killed (no cleanup), when ``SDS_MODEL_FAULT`` names ``step``."""
    if os.environ.get(FAULT_ENV) == step:
        os._exit(137)


@dataclass(frozen=True)
class SavedModel:
    model: Any
    meta: dict[str, Any]
    path: Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_model(model: Any, folder: str | Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write ``model`` and its metadata into ``folder`` (a new folder: ``sds train`` gives
    a fresh version, see :mod:`sds.models.versions`); returns the metadata written (with
    ``sha256`` and ``signature``)."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    data = buffer.getvalue()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    described = {**meta, "format": "sds-model/1", "file": MODEL_FILE, "sha256": sha256(data)}
    written = sign(data, described)
    write_atomic(folder / MODEL_FILE, data)
    fault("model-file")
    write_atomic(folder / META_FILE, json.dumps(written, indent=2))
    fault("meta-file")
    return written


def _locate(path: Path) -> tuple[Path, Path]:
    folder = path if path.is_dir() else path.parent
    if not (folder / META_FILE).exists() and (folder / "model" / META_FILE).exists():
        folder = folder / "model"  # the folder sds train was given
    if folder.is_symlink():  # DIR/model: read every file from the one version it names now
        folder = folder.resolve()
    return folder / MODEL_FILE, folder / META_FILE


def load_model(path: str | Path, *, trust: bool = False) -> SavedModel:
    """Load a model saved by :func:`save_model` (its folder or its ``model.joblib``),
    after checking the file's SHA-256 and the signature; ``trust`` loads an unsigned (or
    otherwise signed) model anyway, with a warning: only for a file from a trusted source."""
    import joblib

    p = Path(path)
    if not p.exists():
        raise DataError("model not found", source=str(p), hint="Give the folder sds train wrote.")
    model_file, meta_file = _locate(p)
    if not meta_file.is_file():
        raise DataError(
            "not an sds model: no model.json beside it",
            source=str(p),
            hint="sds loads only models it saved (model.joblib with model.json), "
            "so their hash can be checked.",
        )
    meta = _read_meta(meta_file)
    if not model_file.is_file():
        raise DataError("the model file is missing", source=str(model_file))
    data = model_file.read_bytes()
    if sha256(data) != meta.get("sha256"):
        raise DataError(
            "the model file's SHA-256 does not match the one recorded when it was saved",
            source=str(model_file),
            found=sha256(data)[:16] + "…",
            expected=str(meta.get("sha256", "?"))[:16] + "…",
            hint="The file was changed or replaced; it is not loaded. Retrain or restore it.",
        )
    _check_signature(data, meta, str(model_file), trust)
    try:
        model = joblib.load(io.BytesIO(data))
    except Exception as exc:
        raise DataError(f"cannot load the model: {exc}", source=str(model_file)) from exc
    if not hasattr(model, "predict"):
        raise DataError("the file holds no model (no predict method)", source=str(model_file))
    return SavedModel(model, meta, model_file.parent)


def _check_signature(data: bytes, meta: dict[str, Any], source: str, trust: bool) -> None:

    try:
        check(data, meta, source)
    except DataError as exc:
        if not trust:
            raise
        print(
            f"warning: {source}: loading a model whose signature is not verified "
            f"(--trust-model): {exc.problem}. Unpickling runs any code the file holds.",
            file=sys.stderr,
        )


def _read_meta(meta_file: Path) -> dict[str, Any]:
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError("model.json is not valid JSON", source=str(meta_file)) from exc
    if not isinstance(meta, dict) or meta.get("format") != "sds-model/1":
        raise DataError(
            "not an sds model description",
            source=str(meta_file),
            expected='"format": "sds-model/1"',
        )
    return meta
