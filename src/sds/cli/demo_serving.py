"""The demo's serving chapters, against a LIVE server: the churn model is started with
``sds serve`` on a free port, a short bounded load is sent and online predictions are
compared with offline ones (the evaluation suite's ``--deploy`` check); then a challenger is
served beside it as a canary with a request log, a routed load is sent and the log is
judged (``sds canary report``). Every server is a child process stopped on the way out of
its ``with`` block, on success, error or Ctrl-C alike."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sds.config import read_mapping

CHALLENGER = """\
# The canary's challenger, trained by `sds train {name}` (sds demo wrote this file):
# a plain logistic regression on the champion's features.
name: churn_challenger
data: ../data/churn_sample.parquet
target: churned
drop: [customer_id, retention_call]
protected: [gender]
candidates: [logistic]
tuning: {{trials: 1, folds: 3}}
threshold: {{by: f1}}
tracking_uri: sqlite:///{db}
seed: {seed}
"""


def serving_chapters(output: Path, seed: int, requests: int = 200) -> list[Any]:
    """The deploy check of the demo's churn model behind a live server."""
    from sds.models.suite import evaluate_folder
    from sds.report.assemble import Chapter
    from sds.serving.deploycheck import deploy_check

    root = output / "models" / "churn"
    _say(f"serving: sds serve {root / 'model'} on a free port, {requests} requests, 4 clients")
    check = deploy_check(root / "model", requests=requests, connections=4, workers=1)
    load = check.load
    _say(
        f"  p50 {load.p50_ms:.1f} ms, p95 {load.p95_ms:.1f} ms, {load.errors} errors in "
        f"{load.requests} requests; server stopped"
    )
    suite = evaluate_folder(root)  # the model's scorecard, named as the suite names it
    result = suite.with_deployment(((suite.models[0][0], check),))
    return [Chapter("Serving: churn model behind a live sds serve", result, "serving.json")]


def canary_chapters(output: Path, seed: int, requests: int = 400) -> list[Any]:
    """Champion and challenger behind one server (half the traffic each), the request log
    written under ``serving/log``, and the canary's call from it."""
    import pandas as pd

    from sds.models.run import train_model
    from sds.monitoring.canary import canary_report
    from sds.report.assemble import Chapter
    from sds.serving.deploycheck import records, running_server
    from sds.serving.load import run_load
    from sds.serving.model import check_servable

    champion = output / "models" / "churn" / "model"
    challenger = _train_challenger(output, seed, train_model)
    log = output / "serving" / "log"
    saved = check_servable(champion)
    rows = records(pd.read_parquet(saved.path / "test.parquet")[saved.meta["features"]])
    extra = ("--canary", str(challenger), "--canary-weight", "0.5", "--log-dir", str(log))
    _say(f"canary: sds serve {champion} {' '.join(extra)}; {requests} requests")
    with running_server(champion, *extra, "--workers", "1", "--range-margin", "-1") as url:
        load = run_load(url + "/predict", rows, connections=4, requests=requests, seconds=60)
    _say(f"  {load.sent} requests, {load.errors} errors; server stopped, log flushed")
    result = canary_report(str(log / "*.parquet"), min_requests=min(100, requests // 4))
    _say(f"  sds canary report {log}: {result.decision}")
    return [Chapter("Canary: challenger against champion, live", result, "canary.json")]


def _train_challenger(output: Path, seed: int, train_model: Any) -> Path:
    config = output / "specs" / "train_challenger.yaml"
    db = (output / "mlruns.db").resolve()
    config.write_text(CHALLENGER.format(name=config, db=db, seed=seed))
    _say(f"training the canary's challenger: sds train {config}")
    raw = {**read_mapping(config), "data": str(output / "data" / "churn_sample.parquet")}
    folder = output / "models" / "churn_challenger"
    train_model(raw, output=folder)
    return folder / "model"


def _say(text: str) -> None:
    print(text, file=sys.stderr)
