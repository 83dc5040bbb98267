"""MkDocs hooks: the generated reference pages and the repository's reference guides.

- ``reference/config.md``, ``reference/cli.md`` and ``reference/api.md`` are written at
  build time from the code (``gen_config``, ``gen_cli``, ``gen_api`` beside this file), so
  they cannot drift from it and are not kept in git.
- ``references/*.md`` live at the repository root (where the seed lists them); they are
  added to the site under ``references/`` so one copy serves GitHub readers and the site.
- The Guides section of the navigation lists ``guides/*.md`` and the reference guides that
  exist, titled by each page's first heading, so a new guide needs no edit here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gen_api
import gen_cli
import gen_config
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_GUIDES = ROOT / "references"
GENERATED = {
    "reference/config.md": gen_config.config_reference,
    "reference/cli.md": gen_cli.cli_reference,
    "reference/api.md": gen_api.api_reference,
}


def title(path: Path) -> str:
    """A page's first ``# heading``, else its file name."""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#\s+(.+)", line)
        if match:
            return match.group(1).strip()
    return path.stem.replace("-", " ").replace("_", " ").capitalize()


def guides_nav(docs_dir: Path) -> list[dict[str, str]]:
    """The Guides section: the workflow guides, then the reference guides."""
    pages = [(title(p), f"guides/{p.name}") for p in sorted((docs_dir / "guides").glob("*.md"))]
    pages += [(title(p), f"references/{p.name}") for p in sorted(REFERENCE_GUIDES.glob("*.md"))]
    return [{name: uri} for name, uri in pages]


def on_config(config: Any) -> Any:
    """Fill the Guides entry of the navigation with the guides that exist."""
    docs_dir = Path(config["docs_dir"])
    for entry in config["nav"] or []:
        if isinstance(entry, dict) and "Guides" in entry:
            entry["Guides"] = guides_nav(docs_dir)
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the generated reference pages and the repository's reference guides."""
    for uri, make in GENERATED.items():
        files.append(File.generated(config, uri, content=make()))
    for path in sorted(REFERENCE_GUIDES.glob("*.md")):
        files.append(File.generated(config, f"references/{path.name}", abs_src_path=str(path)))
    return files
