"""The suite's own rules: each test is in a tier, and no test waits a fixed time.

A fixed ``time.sleep`` in place of a condition is too short on a loaded machine (a flaky
failure) and wasted on a quiet one; tests poll what they wait for with
``tests.waiting.wait_until``. The only sleeps left pace a load on purpose and say so with a
``# pacing`` comment on their line.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from tests.tiers import tiers
from tests.waiting import wait_until

TESTS = Path(__file__).resolve().parent


def _sleeps(source: str) -> list[int]:
    """Lines calling ``time.sleep``/``asyncio.sleep``/a bare ``sleep`` without ``# pacing``."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        if name == "sleep" and "# pacing" not in lines[node.lineno - 1]:
            found.append(node.lineno)
    return found


def test_no_test_waits_a_fixed_time() -> None:
    offences = [
        f"{path.relative_to(TESTS.parent)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "waiting.py"
        for line in _sleeps(path.read_text())
    ]
    assert offences == [], "poll with tests.waiting.wait_until instead of sleeping"


def test_the_sleep_check_finds_each_form() -> None:
    source = "import time, asyncio\nfrom time import sleep\n"
    source += "time.sleep(1)\nsleep(2)\nasyncio.sleep(0.1)\ntime.sleep(0.01)  # pacing\n"
    assert _sleeps(source) == [3, 4, 5]


@pytest.mark.parametrize(
    ("path", "marked", "added"),
    [
        ("tests/stats/test_ttest.py", [], {"fast"}),
        ("tests/models/test_train.py", ["slow"], set()),
        ("tests/spark/test_parity.py", ["slow"], {"spark"}),
        ("tests/spark/test_rows.py", [], {"spark", "slow"}),
        ("tests/postgres/test_engine.py", ["postgres"], {"fast"}),
        ("tests/postgres/test_analysis.py", [], {"postgres", "fast"}),
        ("tests/hostile/test_outputs.py", ["slow"], {"hostile"}),
        ("tests/test_tiers.py", [], {"fast"}),
    ],
)
def test_each_test_gets_its_tiers(path: str, marked: list[str], added: set[str]) -> None:
    assert tiers(Path(path).parts, marked) == added


def test_this_module_was_marked_fast_at_collection(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("fast") is not None
    assert request.node.get_closest_marker("slow") is None


def test_wait_until_returns_the_value_or_fails_naming_what() -> None:
    started = time.monotonic()
    calls = iter([None, False, "ready"])
    assert wait_until(lambda: next(calls), 5, "x") == "ready"
    assert wait_until(lambda: 0, 5, "zero is an answer") == 0
    with pytest.raises(AssertionError, match=r"the thing: not within 0\.05 s"):
        wait_until(lambda: False, 0.05, "the thing")
    assert time.monotonic() - started < 2
