"""The demo's experiment analysis: an event log with a planted lift, a fading novelty effect
and a platform logging bug, analysed from a spec file as a user would (``sds analyze``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sds.cli.common import beside
from sds.config import read_mapping

SPEC = """\
# The checkout test, analysed by `sds analyze {name}` (sds demo wrote this file).
kind: analysis
name: checkout redesign
data: ../data/checkout_events.parquet
unit: user_id
variant: variant
control: control
variants: [control, treatment]
split: [0.5, 0.5]
date: ts                     # event time: each user's first event is the exposure
segments: [platform]
metrics:
  - {{name: orders_per_session, type: ratio, numerator: orders, denominator: sessions}}
  - {{name: revenue_per_user, type: mean, column: revenue, covariate: pre_revenue}}
  - {{name: conversion, type: proportion, column: converted}}
  - {{name: revenue_p90, type: quantile, column: revenue, q: 0.9}}
primary: [orders_per_session]
guardrails: [revenue_per_user]
"""


def analysis_chapter(output: Path, seed: int, users: int) -> Any:
    """Generate the checkout test's events, write its spec, analyse it; say what was found."""
    from sds.data import synth
    from sds.experiments.analysis.run import analyze
    from sds.experiments.analysis.spec import parse
    from sds.report.assemble import Chapter

    params: dict[str, Any] = {"n_users": users, "mislabel_share": 0.1}
    events = output / "data" / "checkout_events.parquet"
    _say(f"generating the checkout test's event log ({users:,} users) -> {events}")
    synth.write_parquet("ab_events", events, seed=seed, progress=True, **params)
    spec_path = output / "specs" / "checkout_analysis.yaml"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(SPEC.format(name=spec_path))
    _say(f"analysing it: sds analyze {spec_path}")
    spec = parse(_read(spec_path), source=str(spec_path))
    result = analyze(spec, beside(spec.data, spec_path))
    _say_findings(result, synth.ABEventsParams(**params))
    return Chapter("Experiment analysis: checkout redesign", result, "analysis_checkout.json")


def _read(path: Path) -> dict[str, Any]:
    return read_mapping(path)


def _say_findings(result: Any, planted: Any) -> None:
    effect = result.effect("orders_per_session")
    _say(
        f"  planted lift in orders per session {planted.pooled_lift:+.1%} (pooled over days); "
        f"found {effect.rel_effect:+.1%} "
        f"[{effect.rel_ci_lower:+.1%}, {effect.rel_ci_upper:+.1%}]"
    )
    novelty = result.to_dict()["novelty"]["arms"]["treatment"]
    _say(
        f"  planted novelty {planted.novelty_lift:+.0%} fading over ~{planted.novelty_days:g} "
        f"days; found: {novelty['pattern']} (p = {novelty['p_value']:.2g})"
    )
    mix = result.to_dict()["segments"]["platform"]["mix"]
    _say(
        f"  planted: {planted.mislabel_share:.0%} of treatment android users logged as web; "
        f"found platform mix shift p = {mix['p_value']:.2g}; verdict: {result.verdict}"
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr)
