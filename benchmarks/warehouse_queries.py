"""What each sds job costs a PostgreSQL server, in statements, and what comes back.

Starts a server of its own with ``log_statement = all``, loads small tables (the A/B table
of ``analysis_bench.py``, two samples of it for ``monitor``, the transaction log of
``features_bench.py``), then runs profile, analyze, assign, srm, features build and monitor
on them by table name, each on a fresh engine. For each job it counts the statements the
server logged for it (``LOG:  statement:`` and ``LOG:  execute``), how many of them read
the tables (the rest are catalog look-ups, cursor fetches, transactions), and the rows and
bytes of the Arrow results the engine brought back
(``Engine.to_pyarrow``). A job that fails on PostgreSQL is reported with its error.

Run: ``.venv/bin/python benchmarks/warehouse_queries.py [--units N]``; the figures are in
``docs/warehouses.md``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import analysis_bench
import features_bench
from warehouse_bench import OUT, load

LOGGED = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)", re.DOTALL)
ENTRY = re.compile(r"^\d{4}-\d\d-\d\d ", re.MULTILINE)  # each log entry starts with its time
CATALOG = re.compile(r"pg_catalog|information_schema|pg_namespace|current_schema|version\(\)")


def jobs() -> dict[str, Callable[[], Any]]:
    """Each job as a user runs it from Python, on tables named in the database."""
    import sds
    from sds.features.build import build

    both = ["control", "treatment"]
    return {
        "connect only": lambda: None,
        "profile": lambda: sds.profile("bench.ab"),
        "analyze": lambda: sds.analyze("bench.ab", analysis_bench.SPEC),
        "assign": lambda: sds.assign("bench.ab", "checkout", both),
        "srm": lambda: sds.srm("bench.ab", "variant", "assigned_at", variants=both),
        "features build": lambda: build(features_bench.SPEC, "bench.tx"),
        "features build --write-table": lambda: build(
            features_bench.SPEC, "bench.tx", table="bench.features_q"
        ),
        "monitor": lambda: sds.monitor("bench.ab", "bench.ab_ref"),
    }


class Received:
    """Counts the rows and bytes of every ``Engine.to_pyarrow`` result while installed (a
    single value counts as one row of 8 bytes)."""

    def __init__(self) -> None:
        self.calls = self.rows = self.bytes = 0

    def __enter__(self) -> Received:
        from sds.data.engine import Engine

        self.original = original = Engine.to_pyarrow

        def counted(engine: Any, expr: Any, **kwargs: Any) -> Any:
            result = original(engine, expr, **kwargs)
            self.calls += 1
            if hasattr(result, "nbytes"):  # a table or a column
                self.rows += result.num_rows if hasattr(result, "num_rows") else len(result)
                self.bytes += result.nbytes
            else:  # one value
                self.rows, self.bytes = self.rows + 1, self.bytes + 8
            return result

        Engine.to_pyarrow = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from sds.data.engine import Engine

        Engine.to_pyarrow = self.original  # type: ignore[method-assign]


def count(url: str, log: Path, name: str, job: Callable[[], Any]) -> str:
    """One row of the table: statements logged, results received, or the job's error."""
    from sds.config import settings
    from sds.data.engine import Engine

    start = log.stat().st_size
    error = ""
    with Received() as received:
        try:
            with settings(engine=Engine.from_url(url)):
                job()
        except Exception as exc:  # a job PostgreSQL cannot run: reported, not fatal
            error = f"fails: {str(exc).splitlines()[0][:160]}"
    with log.open(errors="replace") as f:
        f.seek(start)
        logged = [m.group(1) for e in ENTRY.split(f.read()) if (m := LOGGED.search(e))]
    reads = sum(1 for text in logged if "bench" in text and not CATALOG.search(text))
    catalog = sum(1 for text in logged if CATALOG.search(text))
    got = f"{received.calls} results, {received.rows:,} rows, {received.bytes / 1024:.1f} KiB"
    return f"| {name} | {len(logged)} | {reads} | {catalog} | {got} | {error} |"


def main() -> None:
    from sds.data import localpg, synth

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20_000)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    ab, ref = OUT / f"ab_{args.units}.parquet", OUT / f"ab_ref_{args.units}.parquet"
    analysis_bench._generate("ab_test", ab, n_users=args.units)
    if not ref.exists():
        synth.write_parquet("ab_test", ref, seed=2, n_users=args.units)
    tx = OUT / f"transactions_{args.units // 10}_{args.units}.parquet"
    if not tx.exists():
        per_month = 10 / (0.75 * 12)
        synth.write_parquet("transactions", tx, seed=1, n_customers=args.units // 10,
                            mean_per_month=per_month)  # fmt: skip
    with localpg.running(settings={"log_statement": "all"}) as (server, _):
        url = server.url()
        for name, path in (("bench.ab", ab), ("bench.ab_ref", ref), ("bench.tx", tx)):
            load(url, name, path)
        print("| job | statements | reading the tables | catalog look-ups | results received | |")
        print("|---|---|---|---|---|---|")
        for name, job in jobs().items():
            print(count(url, server.socket_dir / "server.log", name, job), flush=True)


if __name__ == "__main__":
    main()
