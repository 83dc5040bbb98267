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
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sds.errors import DataError
from sds.features.spec import FeatureSpec, parse

STORE_SCHEME = "store://"
REGISTRY = "registry.duckdb"
FAULT_ENV = "SDS_STORE_FAULT"  # test hook: die at a named step of registration

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
    """The store at ``root`` (created on first registration)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- reading ---------------------------------------------------------------------
    def versions(self, name: str | None = None) -> list[Version]:
        if not (self.root / REGISTRY).exists():
            return []
        query = "SELECT * FROM versions" + (" WHERE name = ?" if name else "")
        with self._registry(read_only=True) as con:
            rows = con.execute(query + " ORDER BY name, version", [name] if name else []).fetchall()
            columns = [d[0] for d in con.description]
        return [_version(dict(zip(columns, r, strict=True))) for r in rows]

    def version(self, ref: str) -> Version:
        """``name`` (the latest), ``name@vN`` or ``name@N``."""
        name, _, wanted = ref.removeprefix(STORE_SCHEME).partition("@")
        found = self.versions(name)
        if not found:
            known = sorted({v.name for v in self.versions()})
            raise DataError(
                f"no feature set {name!r} in the store",
                source=str(self.root),
                expected=", ".join(known) or "a registered feature set",
            )
        if not wanted:
            return found[-1]
        number = wanted.lstrip("v")
        for v in found:
            if str(v.version) == number:
                return v
        raise DataError(
            f"no version {wanted!r} of {name!r}",
            source=str(self.root),
            expected=", ".join(f"v{v.version}" for v in found),
        )

    # -- writing ---------------------------------------------------------------------
    def register(
        self, spec: FeatureSpec | dict[str, Any], data: Any = None, labels: Any = None
    ) -> tuple[Version, bool]:
        """Build and register; returns the version and whether it is new."""
        from sds.features.build import build, open_sources

        spec = parse(spec)
        source, parents = self._resolve(data if data is not None else spec.data)
        events, label_table = open_sources(spec, source, labels)
        spec_hash = _hash(_spec_identity(spec))
        fingerprint = _hash(
            [fingerprint_table(events), fingerprint_table(label_table) if label_table else None]
        )
        for v in self.versions(spec.name):
            if v.spec_hash == spec_hash and v.source_fingerprint == fingerprint:
                return v, False
        folder = self.root / spec.name
        tmp = folder / f".tmp-{uuid.uuid4().hex[:12]}"
        try:
            result, _ = build(spec, events, label_table, output=tmp / "features.parquet")
            _fault("after_data")
            return self._commit(spec, spec_hash, fingerprint, parents, result, tmp), True
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _commit(
        self,
        spec: FeatureSpec,
        spec_hash: str,
        fingerprint: str,
        parents: list[str],
        result: Any,
        tmp: Path,
    ) -> Version:
        import sds

        with self._registry() as con:
            con.execute("BEGIN TRANSACTION")
            latest = con.execute(
                "SELECT coalesce(max(version), 0) FROM versions WHERE name = ?", [spec.name]
            ).fetchone()
            number = int(latest[0] if latest else 0) + 1
            final = self.root / spec.name / f"v{number}"
            if final.exists():  # an orphan of an earlier crash: never recorded, so not a version
                shutil.rmtree(final)
            version = Version(
                name=spec.name,
                version=number,
                spec_hash=spec_hash,
                source_fingerprint=fingerprint,
                spec=spec.model_dump(mode="json"),
                code_version=sds.__version__,
                rows=result.rows,
                schema={f["feature"]: f["type"] for f in result.features},
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                parents=parents,
                path=str(final.relative_to(self.root) / "features.parquet"),
            )
            (tmp / "manifest.json").write_text(json.dumps(asdict(version), indent=2))
            os.replace(tmp, final)
            _fault("after_rename")
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
            _fault("before_commit")
            con.execute("COMMIT")
        return version

    def _resolve(self, data: Any) -> tuple[Any, list[str]]:
        """``store://name@vN`` data: that version's table, recorded as a parent."""
        if isinstance(data, str) and data.startswith(STORE_SCHEME):
            parent = self.version(data)
            return str(self.root / parent.path), [parent.ref]
        return data, []

    def _registry(self, read_only: bool = False) -> Any:
        import duckdb

        self.root.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.root / REGISTRY), read_only=read_only)
        if not read_only:
            con.execute(_TABLE)
        return con


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
    """Content fingerprint computed in the engine: schema, row count and the sum of row
    hashes (independent of row order and of the file's name or location)."""
    import ibis

    t = table.expr
    row_hash = ibis.struct({c: t[c] for c in t.columns}).hash()
    summary = t.aggregate(rows=t.count(), total=(row_hash % 1_000_000_007).sum())
    row = table.engine.execute(summary, source=table.name).iloc[0]
    return _hash([str(t.schema()), int(row["rows"]), int(row["total"] or 0)])


def _fault(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        os._exit(137)  # as if killed: no cleanup, no finally blocks
