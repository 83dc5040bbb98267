"""Waiting for a condition in tests: poll it until it holds or a deadline passes.

The suite never sleeps a fixed time in place of a condition (a fixed sleep is either too
short on a loaded machine or wasted on a quiet one): it polls what it waits for, every
``interval`` seconds (doubling up to ``most``), and fails with ``what`` when the deadline
passes. ``tests/test_tiers.py`` checks that no other test module calls ``time.sleep``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float = 0.02,
    most: float = 0.25,
) -> T:
    """Poll ``condition`` until it returns something other than None or False, and return
    that (a data frame, say, which has no truth value).

    Args:
        condition: called repeatedly; may raise AssertionError to stop early (a child
            process died, say), which propagates.
        timeout: seconds before giving up.
        what: what was awaited, for the failure message.
        interval: the first pause between polls, doubled after each poll up to ``most``.
        most: the longest pause between polls.

    Returns:
        The first value ``condition`` returned that was neither None nor False.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found is not None and found is not False:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 2, most)
