"""Experiment tracking in MLflow: every training run logged, the chosen model registered.

The store is a local SQLite file, ``./mlruns.db`` with artifacts in ``./mlartifacts``,
unless ``tracking_uri`` names another (a tracking server's URL, say). A run holds the
parameters, the test metrics, the config (with its data path made absolute), the data's
fingerprint, the code version, the environment (package versions), the plots, and the
model folder (``model.joblib`` with its SHA-256 and input schema in ``model.json``); the
model is registered under the config's ``name`` as a new version. The client API is used
throughout, so nothing is left in MLflow's process-global state.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from sds.errors import InputError, ParameterError
from sds.version import __version__

PACKAGES = (  # distributions whose versions a run records (sds's own: sds.version)
    "scikit-learn",
    "numpy",
    "pandas",
    "scipy",
    "optuna",
    "lightgbm",
    "xgboost-cpu",
    "fairlearn",
    "mlflow-skinny",
    "duckdb",
)


DEFAULT_URI = "sqlite:///mlruns.db"
DEFAULT_ARTIFACTS = Path("mlartifacts")


def resolved(uri: str | None) -> str:
    """The tracking URI to use; a relative SQLite path made absolute (so the run can be
    found again from another folder)."""
    uri = uri or DEFAULT_URI
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        return prefix + str(Path(uri[len(prefix) :]).resolve())
    return uri


def artifact_root(uri: str | None) -> Path | None:
    """Where a new experiment keeps its artifacts: ``mlartifacts`` beside a SQLite store
    (MLflow would otherwise use ``./mlruns`` in whatever folder the process runs from);
    a tracking server decides for itself (None)."""
    prefix = "sqlite:///"
    uri = resolved(uri)
    if uri.startswith(prefix):
        return Path(uri[len(prefix) :]).parent / DEFAULT_ARTIFACTS
    return None


def check_uri(uri: str | None) -> None:
    """A :class:`~sds.errors.ParameterError` for a tracking URI MLflow has no store for,
    raised before any training (it costs only MLflow's import)."""

    uri = resolved(uri)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with quiet():
        try:  # MLflow's own scheme registry; a future layout skips the early check
            from mlflow.tracking._tracking_service.utils import _tracking_store_registry
        except ImportError:
            return
        registry: Any = _tracking_store_registry
        try:
            registry.get_store_builder(uri)
        except Exception as exc:
            schemes = getattr(exc, "supported_uri_schemes", None) or []
            raise ParameterError(
                f"MLflow has no tracking store for {uri!r}",
                parameter="--tracking-uri",
                expected="a URI with one of the schemes "
                + ", ".join(s for s in schemes if s)
                + " (or a plain path)",
                hint="Fix --tracking-uri (tracking_uri in the config), or use --no-track.",
            ) from exc
    _check_sqlite_path(uri, must_exist=False)


def _sqlite_path(uri: str) -> Path | None:
    """The file of a ``sqlite:///`` URI (already :func:`resolved`), else None."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    return Path(uri[len(prefix) :].partition("?")[0])


def _check_sqlite_path(uri: str, *, must_exist: bool) -> None:
    """A SQLite store must be a file (``must_exist``: to read a run from it), never a
    folder: MLflow retries a folder for minutes, and makes an empty database where none is."""

    path = _sqlite_path(uri)
    if path is None:
        return
    if path.is_dir() or (path.exists() and not path.is_file()):
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise ParameterError(
            f"the SQLite tracking store {str(path)!r} is {kind}",
            parameter="--tracking-uri",
            expected="sqlite:///path/to/file.db",
        )
    if must_exist and not path.exists():
        raise InputError(
            "no tracking store here",
            source=str(path),
            hint="Check --tracking-uri: sds train logs to sqlite:///mlruns.db by default.",
        )


def environment() -> dict[str, str]:
    out = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sds": __version__,  # the package, whatever the distribution is called
    }
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@contextmanager
def quiet() -> Iterator[None]:
    """MLflow and the SQLAlchemy it runs on warn about their own deprecations; those are
    not the user's to act on."""
    with warnings.catch_warnings():
        for module in ("mlflow", "sqlalchemy", "alembic", "pydantic"):
            warnings.filterwarnings("ignore", module=module)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        yield


def _client(uri: str) -> Any:
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from mlflow.tracking import MlflowClient

    # mlflow sets its loggers' levels when imported; quieten them after that (their
    # warnings are retries and migrations, not the user's to act on; errors still show)
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return MlflowClient(tracking_uri=uri)


def _experiment(client: Any, name: str, artifacts: Path | None) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = artifacts.resolve().as_uri() if artifacts is not None else None
    return str(client.create_experiment(name, artifact_location=location))


def flat(prefix: str, value: Any) -> dict[str, Any]:
    """Nested mappings as ``a.b.c`` keys."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flat(f"{prefix}.{k}" if prefix else str(k), v))
        return out
    return {prefix: value}


@quiet()  # (a context manager used as a decorator)
def log_run(
    *,
    uri: str,
    experiment: str,
    name: str,
    config: dict[str, Any],
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    model_folder: Path,
    figures: dict[str, str],
    artifacts: Path | None,
) -> str:
    """Log one run and register its model; returns the run id."""
    from mlflow.entities import Metric, Param, RunTag

    client = _client(uri)
    run = client.create_run(_experiment(client, experiment, artifacts), run_name=name)
    run_id = str(run.info.run_id)
    try:
        client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)[:6000]) for k, v in params.items()],
            tags=[RunTag(k, str(v)) for k, v in {**tags, **_env_tags()}.items()],
        )
        client.log_dict(run_id, config, "config.json")
        client.log_dict(run_id, environment(), "environment.json")
        for title, svg in figures.items():
            client.log_text(run_id, svg, f"plots/{title}.svg")
        client.log_artifacts(run_id, str(model_folder), "model")
        _register(client, name, run)
    except Exception:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id)
    return run_id


def _env_tags() -> dict[str, str]:
    env = environment()
    return {"sds.code_version": env.get("sds", "?"), "sds.python": env["python"]}


def _register(client: Any, name: str, run: Any) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if "already exists" not in str(exc).lower():
            raise
    source = f"{run.info.artifact_uri}/model"
    client.create_model_version(name, source, run_id=run.info.run_id)


@quiet()
def fetch_run(uri: str, run_id: str) -> tuple[dict[str, Any], dict[str, float], dict[str, str]]:
    """A logged run's config, metrics and tags."""
    from mlflow.exceptions import MlflowException

    check_uri(uri)
    _check_sqlite_path(uri, must_exist=True)
    client = _client(uri)
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        raise InputError(f"no run {run_id!r} in the tracking store {uri}") from exc
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(run_id, "config.json", tmp)
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    return config, dict(run.data.metrics), dict(run.data.tags)
