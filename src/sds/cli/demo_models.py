"""The demo's model chapter: a churn model trained from a config file as a user would
(``sds train``), with its scorecard. The churn generator plants a leaky column and an
unfairness by proxy; the first run keeps the leak and the scorecard names it, the second
drops it and the scorecard reports the unfairness."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sds.config import read_mapping

CONFIG = """\
# The churn model, trained by `sds train {name}` (sds demo wrote this file).
name: churn
data: ../data/churn_sample.parquet
target: churned
drop: [customer_id{leak}]
protected: [gender]          # fairness groups; never used as features
candidates: [dummy, logistic, hgb]
tuning: {{trials: {trials}, folds: 3}}
threshold: {{by: f1}}
tracking_uri: sqlite:///{db}
seed: {seed}
"""


def models_chapters(output: Path, seed: int, rows: int = 20_000) -> list[Any]:
    """Train twice on a churn sample: with the leaky column, then without it."""
    from sds.data import synth
    from sds.models.run import train_model
    from sds.report.assemble import Chapter

    sample = output / "data" / "churn_sample.parquet"
    _say(f"generating {rows:,} churn rows for the model -> {sample}")
    synth.make_churn(rows, seed=seed).to_parquet(sample)
    chapters = []
    runs = [
        ("leaky", "", 3, "Model: churn, leak kept (the scorecard finds it)"),
        ("churn", ", retention_call", 15, "Model: churn, leak dropped"),
    ]
    for label, leak, trials, title in runs:
        config = output / "specs" / f"train_{label}.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        db = (output / "mlruns.db").resolve()
        config.write_text(CONFIG.format(name=config, leak=leak, trials=trials, db=db, seed=seed))
        _say(f"training: sds train {config}")
        result = train_model(_read(config, sample), output=output / "models" / label)
        _say_findings(result)
        chapters.append(Chapter(title, result, f"model_{label}.json"))
    return chapters


def _read(path: Path, sample: Path) -> dict[str, Any]:
    raw = read_mapping(path)
    return {**raw, "data": str(sample)}


def _say_findings(result: Any) -> None:
    ev = result.evaluation.to_dict()
    failed = [r for r in ev["scorecard"] if r["verdict"] == "fail"]
    counts = {v: sum(r["verdict"] == v for r in ev["scorecard"]) for v in ("pass", "fail")}
    undecided = len(ev["scorecard"]) - counts["pass"] - counts["fail"]
    _say(
        f"  chose {result.run.chosen}: AUC {ev['metrics']['auc']:.3f} "
        f"[{ev['metrics']['auc_ci_lower']:.3f}, {ev['metrics']['auc_ci_upper']:.3f}], "
        f"criteria: {counts['pass']} pass, {counts['fail']} fail, {undecided} not enough data; "
        f"run {result.run.run_id}"
    )
    for row in failed:
        value = row["value"]
        shown = f"{value:.3g}" if isinstance(value, float) else value
        _say(f"  fails: {row['criterion']} = {shown} (needs {row['threshold']})")


def _say(text: str) -> None:
    print(text, file=sys.stderr)
