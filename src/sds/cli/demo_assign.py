"""The demo's assignment chapters: generated user ids split by ``sds assign``'s rule
(sha256 of ``experiment:id``) in the engine, the same ids checked again in Python, and the
sample-ratio check of the split (``sds srm``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

EXPERIMENT = "checkout-redesign-v2"
VARIANTS = ["control", "treatment"]
SHARES = [0.5, 0.5]


def assignment_chapters(output: Path, seed: int, users: int = 50_000) -> list[Any]:
    """Assign ``users`` generated ids to two arms, write the table, check the split."""
    import numpy as np
    import pandas as pd

    from sds.data.io import open_table
    from sds.experiments.assign import assign, assign_table, summarize
    from sds.experiments.srm import srm_test
    from sds.report.assemble import Chapter

    ids_path = output / "data" / "users.parquet"
    table_path = output / "data" / "assignment.parquet"
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(10 * users, size=users, replace=False))
    pd.DataFrame({"user_id": [f"u{i:08d}" for i in ids]}).to_parquet(ids_path)
    _say(
        f"assigning {users:,} generated ids: sds assign --experiment {EXPERIMENT} "
        f"--variants {','.join(VARIANTS)} --data {ids_path} --data-output {table_path}"
    )
    source = open_table(str(ids_path))
    expr = assign_table(source, "user_id", EXPERIMENT, VARIANTS, SHARES)
    source.engine.write(expr, table_path, source=source.name)
    written = pd.read_parquet(table_path)
    counts = {str(v): int(n) for v, n in written["variant"].value_counts().items()}
    summary = summarize(EXPERIMENT, VARIANTS, SHARES, counts, str(table_path))
    sample = written.head(1_000)
    again = assign(sample["user_id"], EXPERIMENT, VARIANTS, SHARES)
    same = sum(a == b for a, b in zip(again, sample["variant"], strict=True))
    _say(f"  the engine and Python agree on {same:,} of {len(sample):,} ids re-assigned")
    srm = srm_test([int(counts.get(v, 0)) for v in VARIANTS], SHARES, variants=VARIANTS)
    _say(f"  split {counts}; sample-ratio check p = {srm.p_value:.3g} (flag: {srm.flag})")
    return [
        Chapter("Assignment: deterministic hash split of 2 arms", summary, "assignment.json"),
        Chapter("Assignment: sample-ratio check of the split", srm, "assignment_srm.json"),
    ]


def _say(text: str) -> None:
    print(text, file=sys.stderr)
