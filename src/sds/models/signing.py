"""Model signatures: an HMAC-SHA256 of the model file and of ``model.json``, keyed by a secret
that whoever can write the model folder does not have.

A SHA-256 recorded beside the file only catches accidents: whoever can replace the file can
replace the hash too, and unpickling runs whatever code the file holds. The signature is
checked before anything is unpickled. The key is ``SDS_MODEL_KEY`` when set (give the
training job and the server the same one, e.g. from a Kubernetes Secret), else a per-user
key file, ``$XDG_CONFIG_HOME/sds/model.key`` (``~/.config/sds/model.key``), created with
mode 0600 the first time a model is saved. Server workers inherit the environment and run
as the same user, so they check with the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from sds.errors import ConfigError, DataError

KEY_ENV = "SDS_MODEL_KEY"
ALGORITHM = "hmac-sha256"
SIGNATURE = "signature"  # the key of model.json that holds it
MIN_KEY_LENGTH = 16
_DOMAIN = b"sds-model-signature/1\n"
_TRUST_HINT = "if you trust where it came from, load it with --trust-model (trust=True)"


def key_path() -> Path:
    """The per-user key file used when ``SDS_MODEL_KEY`` is not set."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sds" / "model.key"


def signing_key(create: bool = False) -> bytes | None:
    """``SDS_MODEL_KEY``, else the key file (made on first use when ``create``); None if
    neither exists."""
    value = os.environ.get(KEY_ENV, "")
    if value:
        if len(value) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"{KEY_ENV} is too short to sign models ({len(value)} characters)",
                expected=f"at least {MIN_KEY_LENGTH} random characters",
                hint='Make one with: python -c "import secrets; print(secrets.token_hex(32))"',
            )
        return value.encode("utf-8")
    path = key_path()
    if not path.exists():
        if not create:
            return None
        _create_key(path)
    return _read_key(path)


def _create_key(path: Path) -> None:
    """Write a new random key with mode 0600; a key another process wrote first wins."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".model.key.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, path)  # fails if the key exists: never overwrite a key
            print(
                f"note: created the model signing key {path}; whatever loads these models "
                f"needs the same key (copy the file, or set {KEY_ENV} to its content)",
                file=sys.stderr,
            )
        except FileExistsError:
            pass
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the model signing key: {exc.strerror or exc}",
            source=str(path),
            hint=f"Set {KEY_ENV} to a secret of at least {MIN_KEY_LENGTH} characters instead.",
        ) from exc


def _read_key(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read the model signing key", source=str(path)) from exc
    if os.name == "posix" and mode & 0o077:
        raise ConfigError(
            "the model signing key is readable or writable by other users",
            source=str(path),
            found=f"mode {mode & 0o777:o}",
            hint=f"Run chmod 600 {path} (and retrain if others could have read it).",
        )
    if len(text) < MIN_KEY_LENGTH:
        raise ConfigError("the model signing key file is empty or too short", source=str(path))
    return text.encode("utf-8")


def key_id(key: bytes) -> str:
    """A short name for a key (which key signed a model), revealing nothing usable."""
    return hashlib.sha256(b"sds-model-key-id\n" + key).hexdigest()[:12]


def _canonical(meta: dict[str, Any]) -> bytes:
    body = {k: v for k, v in meta.items() if k != SIGNATURE}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def _mac(key: bytes, data: bytes, meta: dict[str, Any]) -> str:
    mac = hmac.new(key, _DOMAIN, hashlib.sha256)
    described = _canonical(meta)
    mac.update(len(described).to_bytes(8, "big") + described)
    mac.update(len(data).to_bytes(8, "big") + data)
    return mac.hexdigest()


def sign(data: bytes, meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` (as it reads back from JSON) with the signature of ``data`` and itself."""
    key = signing_key(create=True)
    assert key is not None  # created when missing
    plain = json.loads(json.dumps(meta, default=str))  # exactly what model.json will hold
    signature = {"algorithm": ALGORITHM, "key_id": key_id(key), "value": _mac(key, data, plain)}
    return {**plain, SIGNATURE: signature}


def check(data: bytes, meta: dict[str, Any], source: str) -> None:
    """Raise a :class:`DataError` unless ``meta`` carries a valid signature of ``data`` and
    itself under this user's key. Reads no pickle."""
    signature = meta.get(SIGNATURE)
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        raise DataError(
            "the model is not signed, so it is not loaded (unpickling a file can run any code)",
            source=source,
            hint=f"Retrain it with this version of sds train; {_TRUST_HINT}.",
        )
    key = signing_key()
    if key is None:
        raise DataError(
            "no key to check the model's signature with",
            source=source,
            expected=f"{KEY_ENV} set, or the key file {key_path()}",
            hint=f"Set {KEY_ENV} to the key that signed it (key id {signature.get('key_id')}).",
        )
    expected = _mac(key, data, meta)
    if not hmac.compare_digest(str(signature.get("value", "")), expected):
        raise DataError(
            "the model's signature does not match: the files were changed after saving, "
            "or signed with another key",
            source=source,
            found=f"signed by key {signature.get('key_id')}",
            expected=f"key {key_id(key)}",
            hint=f"Set {KEY_ENV} to the key that signed it, or retrain; {_TRUST_HINT}.",
        )
