"""Newcomer findings about wording and library behaviour: the SRM tolerance edge (M4), help
texts shown whole, errors that name the flag typed, plans and verdicts that say what they
mean, and the README's option table."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import invoke


@pytest.mark.parametrize(
    ("counts", "over", "deviation"),
    [("50500,49500", False, 0.01), ("49500,50500", False, 0.01), ("50600,49400", True, 0.012)],
)
def test_m4_a_deviation_equal_to_the_tolerance_is_not_over_it(
    counts: str, over: bool, deviation: float
) -> None:
    """M4: 50,500 / 49,500 gave ``max_share_deviation 0.010000000000000009`` and "1.00% >
    the 1% rule"; the deviation is computed in counts and compared with a relative slack."""
    d = json.loads(invoke(["srm", "--counts", counts, "-f", "json"]).stdout)
    assert d["max_share_deviation"] == pytest.approx(deviation, rel=1e-12)
    assert d["share_deviation_over_tolerance"] is over
    assert ("1.00% <= the 1% rule" in d["note"]) is not over


def _help_tree() -> Any:
    import typer.main

    from sds.cli.main import app

    def walk(command: Any, path: list[str]) -> Any:
        yield path, command
        for name, sub in (getattr(command, "commands", None) or {}).items():
            yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(app), []))


def test_every_help_text_is_shown_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sds profile --help`` read "(HyperLogLog) beyond ." : the help's "[default: ...]"
    was taken for rich markup and dropped (so were "[trim, 1 - trim]" and "[shap]"). Every
    command's and option's help must appear whole in the rendered help, with no " ." or
    "( " left where words went missing."""
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option: nothing wraps

    def plain(text: str) -> str:
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())

    checked = 0
    for path, command in _help_tree():
        result = invoke([*path, "--help"])
        assert result.exit_code == 0, path
        shown = plain(result.stdout)
        assert not re.search(r"\w \.(?!\w)|\( | \)| ,", shown), (path, shown)
        texts = [p.help for p in command.params if getattr(p, "help", None)]
        for text in [*texts, *([command.help] if command.help else [])]:
            assert plain(text) in shown, (path, text)
            checked += 1
    assert checked > 300  # every command was walked


def test_causal_advise_names_the_missing_flag() -> None:
    """The message ended "How was treatment assigned?." and named no flag to give."""
    result = invoke(["causal", "advise"])
    assert result.exit_code == 2
    assert "?." not in result.stderr
    assert "parameter '--assignment'" in result.stderr
    assert "one of randomized, cutoff, instrument, policy, self-selected" in result.stderr
    result = invoke(["causal", "advise", "--assignment", "cutoff"])
    assert "?." not in result.stderr and "--full-compliance or --no-full-compliance" in (
        result.stderr
    )


def test_design_errors_name_the_flags_typed_and_the_spec_keys_written(tmp_path: Path) -> None:
    """``sds design`` said "give mde ... or n_per_variant" to a user who types ``--mde`` and
    ``--n-per-variant``; a spec file's error keeps its keys."""
    result = invoke(["design", "proportion", "--baseline", "0.05"])
    assert result.exit_code == 2
    assert "give --mde (to get the sample size) or --n-per-variant" in result.stderr
    result = invoke(["design", "mean", "--std", "3", "--mde", "0.1"])
    assert "a relative --mde needs a non-zero --mean" in result.stderr
    assert "set --absolute to read --mde" in result.stderr
    result = invoke(["design", "proportion", "--mde", "0.1"])
    assert "needs --baseline (or --data to estimate it)" in result.stderr
    spec = tmp_path / "plan.yaml"
    spec.write_text("metric: proportion\nbaseline: 0.05\n")
    result = invoke(["design", "spec", str(spec)])
    assert result.exit_code == 2
    assert "give mde (to get the sample size) or n_per_variant" in result.stderr
    assert "--mde" not in result.stderr


def test_a_two_arm_plan_has_nothing_to_correct() -> None:
    args = ["design", "proportion", "--baseline", "0.05", "--mde", "0.1"]
    two = invoke(args).stdout
    assert re.search(r"correction\s+│ none \(one comparison, so holm does not apply\)", two)
    three = invoke([*args, "--arms", "3"]).stdout
    assert re.search(r"correction\s+│ holm\s", three)


def test_verdict_is_a_string_on_every_result_that_has_one() -> None:
    """``CausalResult.verdict`` was a bound method (``r.verdict()``) while
    ``AnalysisResult.verdict`` is a string: both are now read as ``r.verdict``."""
    import sds
    from sds.data.synth import make_ab_test

    rng = np.random.default_rng(2)
    x = rng.normal(size=300)
    t = (rng.random(300) < 1 / (1 + np.exp(-x))).astype(int)
    frame = pd.DataFrame({"x": x, "t": t, "y": 1.0 + 2.0 * t + x + rng.normal(size=300)})
    causal = sds.causal.run(frame, "ipw", outcome="y", treatment="t", covariates=["x"])
    spec = {
        "unit": "user_id",
        "variant": "variant",
        "control": "control",
        "metrics": [{"name": "conversion", "type": "proportion", "column": "converted"}],
    }
    analysis = sds.analyze(make_ab_test(400, seed=1), spec)
    for result in (causal, analysis):
        assert isinstance(result.verdict, str) and result.verdict
        assert result.to_dict()["verdict"] == result.verdict
    assert causal.verdict.startswith("The ATE is significant")


def test_readme_says_which_commands_take_format_and_output() -> None:
    """The README said every command takes ``--format`` and ``--output``; ``serve`` and
    ``features get`` take neither and ``demo`` has no ``--format``. The exceptions it names
    are the CLI's, and a failing gate is said to write its report."""
    from tests.test_public_surface import cli_commands

    def lacking(option: str) -> set[str]:
        return {
            name
            for name, command in cli_commands().items()
            if option not in {o for p in command.params for o in getattr(p, "opts", [])}
        }

    assert lacking("--format") == {"serve", "features get", "demo"}
    assert lacking("--output") == {"serve", "features get"}
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert "Every command takes" not in readme
    said = "Two take neither: `serve` (a server) and `features get`"
    assert said in readme and "`demo --output` names the folder of its report" in readme
    assert "`profile --strict` (or `--fail-on`) writes its report, then exits 2" in readme
