"""The suite's tiers, as pytest markers set at collection (``tests/conftest.py``).

- ``spark``: everything under ``tests/spark`` (a local Spark; also ``slow``);
- ``postgres``: everything under ``tests/postgres`` (the suite's own PostgreSQL server);
- ``hostile``: everything under ``tests/hostile`` (attackers and careless users);
- ``slow``: marked by hand, a test or a module that takes more than a few seconds;
- ``fast``: every test that is not ``slow``: ``make test-fast`` runs these.

``browser`` (HTML reports in headless Chromium) is marked by hand too. ``make test`` runs
every tier.
"""

from __future__ import annotations

from collections.abc import Iterable

BY_FOLDER = {"spark": ("spark", "slow"), "postgres": ("postgres",), "hostile": ("hostile",)}


def tiers(parts: Iterable[str], marked: Iterable[str]) -> set[str]:
    """The tier markers a test gets besides its own.

    Args:
        parts: the parts of the test file's path relative to the repository.
        marked: the names of the markers the test already has.

    Returns:
        The markers to add.
    """
    parts, have = list(parts), set(marked)
    folder = parts[1] if len(parts) > 2 and parts[0] == "tests" else ""
    add = set(BY_FOLDER.get(folder, ()))
    if "slow" not in have | add:
        add.add("fast")
    return add - have
