"""``sds demo``: the end-to-end tour on generated data, one chapter per capability."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer


def command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Report folder.")] = Path(
        "reports"
    ),
    rows: Annotated[int, typer.Option(help="Rows of the generated churn table.")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the generators.")] = 42,
) -> None:
    """Generate data, run every capability on it, and write reports/index.html and JSON."""
    from sds.data import synth
    from sds.features.profile import profile
    from sds.params import check
    from sds.report.assemble import Chapter, write_report

    check("n_rows", rows)
    check("seed", seed)
    started = time.perf_counter()
    data_path = output / "data" / "churn.parquet"
    _say(f"generating {rows:,} churn rows -> {data_path}")
    synth.write_parquet("churn", data_path, seed=seed, n_rows=rows, progress=True)
    _say("profiling them in the engine")
    chapters = [Chapter("Data profile: churn table", profile(str(data_path)), "profile.json")]
    index = write_report(output, "sds demo", chapters)
    _say(f"done in {time.perf_counter() - started:.1f} s")
    print(f"report: {index}")
    print(f"json:   {output / 'index.json'} ({', '.join(c.json_name for c in chapters)})")


def _say(text: str) -> None:
    print(text, file=sys.stderr)
