"""The job behind ``scripts/experiment_designer.py``: plan every design spec in a folder,
and analyse every analysis spec (``kind: analysis``) beside them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from sds.cli.common import beside
from sds.cli.seed import SeedContext, SeedJob
from sds.config import StrictModel, read_mapping, validate_mapping
from sds.errors import DataError, SdsError
from sds.experiments.design_spec import DesignSpec
from sds.params import OneOf, check
from sds.report.files import write_atomic
from sds.results import FORMATS

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


class DesignerConfig(StrictModel):
    """Defaults applied under every spec (a spec's own keys win), and output formats."""

    defaults: DesignSpec = Field(
        default_factory=lambda: DesignSpec(),
        description="Design spec keys applied under every spec (a spec's own keys win).",
    )
    formats: list[str] = Field(
        default_factory=lambda: ["json", "markdown"],
        description="Formats written per spec: json, markdown, html or text.",
    )


def spec_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SPEC_SUFFIXES)
        if not files:
            raise DataError(
                "folder holds no design specs",
                source=str(path),
                expected="files ending in .yaml, .yml or .json",
            )
        return files
    if not path.exists():
        raise DataError("file not found", source=str(path))
    return [path]


def run_designer(ctx: SeedContext) -> int:
    """Plan all specs first; write only when every one succeeded (all or nothing)."""
    from sds.experiments.design import design

    assert ctx.input is not None and ctx.output is not None
    config: DesignerConfig = ctx.config  # type: ignore[assignment]
    for fmt in config.formats:
        check("formats", fmt, OneOf(FORMATS))
    plans = []
    for path in spec_files(ctx.input):
        try:
            mapping = read_mapping(path)
            if mapping.get("kind") == "analysis":
                ctx.log.info("analysing %s", path)
                plans.append((path.stem, _analysis(path, mapping)))
                continue
            ctx.log.info("planning %s", path)
            defaults = config.defaults.model_dump(exclude_unset=True)
            spec = validate_mapping({**defaults, **mapping}, DesignSpec, str(path))
            plans.append((path.stem, design(spec)))
        except SdsError as exc:
            exc.source = exc.source or str(path)
            raise
    suffix = {"json": ".json", "markdown": ".md", "html": ".html", "text": ".txt"}
    for stem, plan in plans:
        for fmt in config.formats:
            write_atomic(ctx.output / f"{stem}{suffix[fmt]}", plan.render(fmt))
    ctx.log.info("wrote %d plans to %s", len(plans), ctx.output)
    return len(plans)


def _analysis(path: Path, mapping: dict[str, Any]) -> Any:
    """An analysis spec (``kind: analysis``): its data is read relative to the spec."""
    from sds.experiments.analysis.run import analyze
    from sds.experiments.analysis.spec import parse

    spec = parse(mapping, source=str(path))
    return analyze(spec, beside(spec.data, path))


JOB = SeedJob(
    name="experiment_designer.py",
    description="Plan A/B tests from YAML/JSON design specs (a file or a folder of them): "
    "sample size, power or MDE, duration, CUPED and sequential looks; specs with "
    "'kind: analysis' are analysed instead (sds analyze). Writes one result per spec under "
    "--output (<spec name>.json, .md ...). Config keys (-c): defaults (design spec keys "
    "applied under every spec, a spec's own keys win; e.g. {alpha: 0.05, power: 0.8}), "
    "formats (written per spec: json, markdown, html, text; default [json, markdown]).",
    run=run_designer,
    config_model=DesignerConfig,
)
