"""An embedded, versioned feature store: Parquet files plus a DuckDB registry.

Layout under the store root::

    registry.duckdb            one row per version: the source of truth
    <name>/v<N>/features.parquet
    <name>/v<N>/manifest.json  the same record, for people and other tools

A version is immutable and carries its spec, the spec's hash, a fingerprint of the source
data (row count and an order-independent sum of row hashes, computed in the engine), the
code version, row count, schema, creation time and parents (feature sets it was built from,
named as ``store://name@vN`` in ``data``). Registering the same spec on the same data again
returns the existing version; different data or a different spec makes a new one.

Registration is crash-safe: the table is written under a temporary folder, renamed to its
version folder, and only then recorded in the registry in one transaction. Readers trust
the registry alone, so a crash at any point leaves every earlier version readable; a
version folder without a registry row (a crash between rename and record) is an orphan
and is replaced by the next registration.

Names and versions are checked at every entry (:mod:`sds.features.store_names`): a name is
one plain folder under the root, never a path. Registry access is serialised across
processes and only folders sds wrote for this store are ever deleted
(:mod:`sds.features.store_lock`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sds.config import engine_scope
from sds.data.rows import row_hash64
from sds.errors import DataError, ParameterError
from sds.features import store_lock
from sds.features.build import build, open_sources
from sds.features.spec import FeatureSpec, parse
from sds.features.store_names import check_name, inside, parse_ref
from sds.features.temporal import features
from sds.version import __version__

STORE_SCHEME = "store://"
REGISTRY = "registry.duckdb"
FAULT_ENV = "SDS_STORE_FAULT"  # test hook: die at a named step of registration

_A_STORE = f"a folder made by 'sds features register' (with {REGISTRY})"
_NO_STORE = "Check --store; a store is made by registering a feature set (sds features register)."
_TABLE = """
CREATE TABLE IF NOT EXISTS versions (
    name VARCHAR, version INTEGER, spec_hash VARCHAR, source_fingerprint VARCHAR,
    spec_json VARCHAR, code_version VARCHAR, rows BIGINT, schema_json VARCHAR,
    created_at VARCHAR, parents_json VARCHAR, path VARCHAR,
    PRIMARY KEY (name, version)
)
"""


@dataclass(frozen=True)
class Version:
    """One registered feature set version."""

    name: str
    version: int
    spec_hash: str
    source_fingerprint: str
    spec: dict[str, Any]
    code_version: str
    rows: int
    schema: dict[str, str]
    created_at: str
    parents: list[str]
    path: str

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"


class FeatureStore:
    """The store at ``root`` (created on first registration). Registry access waits up to
    ``lock_timeout`` seconds for other processes (default: ``SDS_STORE_LOCK_TIMEOUT`` or 60)."""

    def __init__(self, root: str | Path, lock_timeout: float | None = None) -> None:
        self.root = Path(root)
        self.lock_timeout = store_lock.resolve_timeout(lock_timeout)

    # -- reading ---------------------------------------------------------------------
    def versions(self, name: str | None = None) -> list[Version]:
        if name is not None:
            check_name(name)
        if not (self.root / REGISTRY).exists():
            return []
        with self._registry() as con:
            return _rows(con, name)

    def version(self, ref: str) -> Version:
        """``name`` (the latest), ``name@vN`` or ``name@N``."""
        name, wanted = parse_ref(ref.removeprefix(STORE_SCHEME))
        self.require()
        found = self.versions(name)
        if not found:
            known = sorted({v.name for v in self.versions()})
            raise DataError(
                f"no feature set {name!r} in the store",
                source=str(self.root),
                expected=", ".join(known) or "a registered feature set",
            )
        if wanted is None:
            return found[-1]
        for v in found:
            if v.version == wanted:
                return v
        raise DataError(
            f"no version 'v{wanted}' of {name!r}",
            source=str(self.root),
            expected=", ".join(f"v{v.version}" for v in found),
        )

    def require(self) -> None:
        """A DataError unless the root is a feature store (a folder with a registry or the
        store's id file): a missing path, a file or another folder is not an empty store."""
        where = str(self.root)
        if not self.root.exists():
            raise DataError("no feature store at this path", source=where, hint=_NO_STORE)
        if not self.root.is_dir():
            raise DataError("not a feature store: a file, not a folder", source=where)
        if not any((self.root / f).is_file() for f in (REGISTRY, store_lock.STORE_FILE)):
            found = "an empty folder" if not any(self.root.iterdir()) else "other files"
            raise DataError(
                "not a feature store", source=where, found=found, expected=_A_STORE,
                hint=_NO_STORE,
            )  # fmt: skip

    # -- writing ---------------------------------------------------------------------
    def register(
        self, spec: FeatureSpec | dict[str, Any], data: Any = None, labels: Any = None
    ) -> tuple[Version, bool]:
        """Build and register; returns the version and whether it is new."""

        spec = parse(spec)
        check_name(spec.name)
        source, parents = self._resolve(data if data is not None else spec.data)
        events, label_table = open_sources(spec, source, labels)
        identity = (
            _hash(_spec_identity(spec)),
            _hash(
                [fingerprint_table(events), fingerprint_table(label_table) if label_table else None]
            ),
        )
        if same := _same(self.versions(spec.name), identity):
            return same, False
        fresh = not self.root.exists()
        if fresh:  # a store is made only for data that passes the checks
            _check_inputs(spec, events, label_table)
        elif not self.root.is_dir():
            self.require()
        owner = store_lock.store_id(self.root, self.lock_timeout)
        tmp = store_lock.new_temp(self.root, spec.name, owner)
        done = False
        try:
            result, _ = build(spec, events, label_table, output=tmp / "features.parquet")
            _fault("after_data")
            with self._registry(write=True) as con:
                if same := _same(_rows(con, spec.name), identity):  # registered meanwhile
                    done = True
                    return same, False
                _check_case(con, spec.name)
                store_lock.remove_stale_temps(self.root, owner)
                version = self._commit(con, spec, identity, parents, result, tmp)
                done = True
                return version, True
        finally:
            shutil.rmtree(inside(self.root, tmp), ignore_errors=True)
            if fresh and not done:  # the build failed: no store is left behind
                store_lock.discard_new_store(self.root, spec.name)

    def _commit(
        self,
        con: Any,
        spec: FeatureSpec,
        identity: tuple[str, str],
        parents: list[str],
        result: Any,
        tmp: Path,
    ) -> Version:
        """Rename ``tmp`` into place and record it (``con``: the locked registry)."""
        con.execute("BEGIN TRANSACTION")
        latest = con.execute(
            "SELECT coalesce(max(version), 0) FROM versions WHERE name = ?", [spec.name]
        ).fetchone()
        number = int(latest[0] if latest else 0) + 1
        final = self.root / spec.name / f"v{number}"
        inside(self.root, final)
        if final.exists() or final.is_symlink():  # an orphan of an earlier crash?
            owner = store_lock.store_id(self.root, self.lock_timeout)
            store_lock.remove_orphan(self.root, final, owner)
        version = Version(
            name=spec.name,
            version=number,
            spec_hash=identity[0],
            source_fingerprint=identity[1],
            spec=spec.model_dump(mode="json"),
            code_version=__version__,
            rows=result.rows,
            schema={f["feature"]: f["type"] for f in result.features},
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            parents=parents,
            path=str(final.relative_to(self.root) / "features.parquet"),
        )
        (tmp / "manifest.json").write_text(json.dumps(asdict(version), indent=2))
        os.replace(tmp, final)
        _fault("after_rename")
        _insert(con, version)
        _fault("before_commit")
        con.execute("COMMIT")
        return version

    def table_path(self, version: Version) -> Path:
        """The version's Parquet file, proven to be inside the store."""
        return inside(self.root, self.root / version.path)

    def _resolve(self, data: Any) -> tuple[Any, list[str]]:
        """``store://name@vN`` data: that version's table, recorded as a parent."""
        if isinstance(data, str) and data.startswith(STORE_SCHEME):
            parent = self.version(data)
            return str(self.table_path(parent)), [parent.ref]
        return data, []

    @contextmanager
    def _registry(self, write: bool = False) -> Iterator[Any]:
        """The registry, under the store's lock; read-only unless ``write``."""
        if write:
            self.root.mkdir(parents=True, exist_ok=True)
        timeout = self.lock_timeout
        with store_lock.registry_lock(self.root, timeout, write=write):
            con = store_lock.connect(self.root, REGISTRY, timeout, read_only=not write)
            try:
                if write:
                    con.execute(_TABLE)
                yield con
            finally:
                con.close()


def _check_inputs(spec: FeatureSpec, events: Any, labels: Any) -> None:
    """The build's checks of the spec's columns and values (a few queries, nothing
    written): a DataError for columns that are missing, not numbers, or not finite."""

    with engine_scope(spec):
        features(spec, events, labels, [])


def _rows(con: Any, name: str | None) -> list[Version]:
    import duckdb

    query = "SELECT * FROM versions" + (" WHERE name = ?" if name else "")
    try:
        rows = con.execute(query + " ORDER BY name, version", [name] if name else []).fetchall()
    except duckdb.CatalogException:  # a registry file whose first writer died before the table
        return []
    columns = [d[0] for d in con.description]
    return [_version(dict(zip(columns, r, strict=True))) for r in rows]


def _same(found: list[Version], identity: tuple[str, str]) -> Version | None:
    """The version with this spec hash and source fingerprint, if any."""
    for v in found:
        if (v.spec_hash, v.source_fingerprint) == identity:
            return v
    return None


def _check_case(con: Any, name: str) -> None:
    """On a case-insensitive disk ``Churn`` and ``churn`` would share one folder."""
    other = con.execute(
        "SELECT DISTINCT name FROM versions WHERE lower(name) = lower(?) AND name <> ?",
        [name, name],
    ).fetchall()
    if other:
        raise ParameterError(
            f"feature set name {name!r} differs from the stored {other[0][0]!r} only in case",
            parameter="name",
            hint="Use the stored name, or a different one: on some disks both share a folder.",
        )


def _insert(con: Any, version: Version) -> None:
    con.execute(
        "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            version.name,
            version.version,
            version.spec_hash,
            version.source_fingerprint,
            json.dumps(version.spec, sort_keys=True),
            version.code_version,
            version.rows,
            json.dumps(version.schema),
            version.created_at,
            json.dumps(version.parents),
            version.path,
        ],
    )


def _version(row: dict[str, Any]) -> Version:
    return Version(
        name=row["name"],
        version=int(row["version"]),
        spec_hash=row["spec_hash"],
        source_fingerprint=row["source_fingerprint"],
        spec=json.loads(row["spec_json"]),
        code_version=row["code_version"],
        rows=int(row["rows"]),
        schema=json.loads(row["schema_json"]),
        created_at=row["created_at"],
        parents=json.loads(row["parents_json"]),
        path=row["path"],
    )


def _spec_identity(spec: FeatureSpec) -> dict[str, Any]:
    """What defines the features: the spec less where the data was read from."""
    return spec.model_dump(mode="json", exclude={"data", "labels"})


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint_table(table: Any) -> str:
    """Content fingerprint computed in the engine: schema, row count and the sum of 64-bit
    row hashes mod a prime (independent of row order and of the file's name or location).

    The row hash is DuckDB's ``hash``, Spark's ``xxhash64`` or PostgreSQL's
    ``hashtextextended`` of the row as text (see :mod:`sds.data.rows`), so
    the same data has one fingerprint per engine, not one across engines."""
    t = table.expr
    row_hash = row_hash64(t, table.engine.backend)
    summary = t.aggregate(rows=t.count(), total=(row_hash % 1_000_000_007).sum())
    row = table.engine.execute(summary, source=table.name).iloc[0]
    return _hash([str(t.schema()), int(row["rows"]), int(row["total"] or 0)])


def _fault(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        os._exit(137)  # as if killed: no cleanup, no finally blocks
