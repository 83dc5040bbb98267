"""Reports of the feature store commands: one version, or the list of versions."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from sds.features.store import Version
from sds.results import KeyValue, Result, Section, jsonable_dict, records_table


@dataclass(frozen=True)
class Registered(Result):
    """A registration: the version, and whether it was made now or already existed."""

    title: ClassVar[str] = "Feature set version"
    version: Version
    new: bool

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict({"ref": self.version.ref, "new": self.new, **asdict(self.version)})

    def sections(self) -> list[Section]:
        d = self.to_dict()
        keys = ("ref", "new", "rows", "spec_hash", "source_fingerprint", "code_version")
        rows = [(k, d[k]) for k in keys] + [
            ("created_at", d["created_at"]),
            ("parents", ", ".join(d["parents"]) or "none"),
            ("path", d["path"]),
        ]
        return [KeyValue("Version", rows), records_table("Schema", _schema(d["schema"]))]


@dataclass(frozen=True)
class VersionList(Result):
    """Every version in a store (or of one feature set)."""

    title: ClassVar[str] = "Feature store"
    root: str
    versions: tuple[Version, ...]

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict({"store": self.root, "versions": [asdict(v) for v in self.versions]})

    def sections(self) -> list[Section]:
        rows = [
            {
                "ref": v.ref,
                "rows": v.rows,
                "features": len(v.schema) - 2,
                "created_at": v.created_at,
                "parents": ", ".join(v.parents),
                "source_fingerprint": v.source_fingerprint,
            }
            for v in self.versions
        ]
        return [records_table(f"Versions in {self.root}", rows)]


def _schema(schema: dict[str, str]) -> list[dict[str, str]]:
    return [{"column": k, "type": v} for k, v in schema.items()]
