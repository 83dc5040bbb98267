"""Checks ``sds serve`` makes in the main process before any worker starts, so a bad
setting is one line and exit 2 rather than workers failing over and over: the address
(an IP of this machine, the port free), the request log folder, the numeric settings,
and a challenger whose input schema differs from the champion's."""

from __future__ import annotations

import errno
import math
import socket
import tempfile
from pathlib import Path
from typing import Any

from sds.errors import DataError, ParameterError

MAX_WORKERS = 256


def check_address(host: str, port: int) -> None:
    """Bind ``host:port`` once and let go: a clear error now instead of a backtrace from
    the HTTP server."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ParameterError(
            f"--host {host[:100]!r} is not an IP address",
            parameter="host",
            hint="Use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).",
        ) from None
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise _bind_error(host, port, exc) from None


def _bind_error(host: str, port: int, exc: OSError) -> ParameterError:
    if exc.errno == errno.EADDRINUSE:
        return ParameterError(
            f"port {port} on {host} is already in use",
            hint="Stop the process listening there or pass another --port.",
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return ParameterError(
            f"{host} is not an address of this machine",
            parameter="host",
            hint="Use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).",
        )
    return ParameterError(f"cannot listen on {host} port {port}: {exc.strerror}")


def check_log_dir(log_dir: str | Path) -> Path:
    """The request log folder, made if missing and checked writable."""
    path = Path(log_dir).resolve()
    if path.exists() and not path.is_dir():
        raise ParameterError(
            "the request log folder is a file",
            source=str(path),
            parameter="log_dir",
            hint="Pass a folder (it is created if missing).",
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ParameterError(
            f"cannot write the request log there: {exc.strerror}",
            source=str(path),
            parameter="log_dir",
        ) from None
    return path


RANGES = {
    "workers": (1, MAX_WORKERS),
    "canary_weight": (0, 1),
    "log_sample": (0, 1),
    "max_body": (1, 1 << 30),
    "body_timeout": (0.1, 3_600),
    "range_margin": (0, 1e6),  # None turns the range check off
}


def check_settings(settings: dict[str, Any]) -> None:
    """The numeric settings, each in its range (NaN is in none)."""
    for name, value in settings.items():
        if value is not None:
            _within(name, value, *RANGES[name])


def _within(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
        raise ParameterError(
            f"{name} == {value}, must be in [{low:g}, {high:g}]",
            parameter=name,
        )


def schema_differences(champion: dict[str, Any], challenger: dict[str, Any]) -> list[str]:
    """How the challenger's input schema (names and kinds) differs from the champion's;
    empty when the same requests fit both."""
    ours = {c["name"]: c["kind"] for c in champion["input_schema"]}
    theirs = {c["name"]: c["kind"] for c in challenger["input_schema"]}
    out = []
    unseen = [n for n in ours if n not in theirs]
    missing = [n for n in theirs if n not in ours]
    kinds = [
        f"{n} ({ours[n]} vs {theirs[n]})" for n in ours if n in theirs and ours[n] != theirs[n]
    ]
    if unseen:
        out.append(f"feature names unseen at fit time by the challenger: {_names(unseen)}")
    if missing:
        out.append(
            f"feature names seen at fit time by the challenger, yet now missing: {_names(missing)}"
        )
    if kinds:
        out.append(f"kinds differ (champion vs challenger): {_names(kinds)}")
    return out


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:20])
    return shown + (f" and {len(names) - 20} more" if len(names) > 20 else "")


def check_canary_schema(champion: Any, challenger: Any, source: str) -> None:
    """Refuse a challenger that would fail every request shaped for the champion."""
    differences = schema_differences(champion.meta, challenger.meta)
    if differences:
        raise DataError(
            "the challenger's input schema differs from the champion's: " + "; ".join(differences),
            source=source,
            hint="Every request routed to it would be refused (422). Serve a challenger "
            "trained on the same features, or pass --allow-schema-change.",
        )
