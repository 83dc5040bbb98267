"""Seeded generators of realistic data with known true parameters.

Each generator builds its table in blocks of :data:`BLOCK` units; block ``b`` draws from
``numpy.random.default_rng([seed, b])``, so the same seed gives the same rows whether the
table is made in memory (``make_*``) or streamed to Parquet (:func:`write_parquet`), and a
table of tens of millions of rows never has to fit in memory.

>>> from sds.data import synth
>>> df = synth.make_ab_test(n_users=1_000, seed=7)
>>> sorted(df["variant"].unique())
['control', 'treatment']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sds.data.synth.ab import ABTestParams, ab_block
from sds.data.synth.ab_events import ABEventsParams, ab_events_block
from sds.data.synth.churn import ChurnParams, churn_block
from sds.data.synth.panel import PanelParams, panel_block
from sds.data.synth.transactions import TransactionParams, transactions_block
from sds.errors import ParameterError
from sds.params import check
from sds.progress import progress_steps

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

BLOCK = 100_000

__all__ = [
    "GENERATORS",
    "ABEventsParams",
    "ABTestParams",
    "ChurnParams",
    "PanelParams",
    "TransactionParams",
    "make",
    "make_ab_events",
    "make_ab_test",
    "make_churn",
    "make_panel",
    "make_transactions",
    "write_parquet",
]

BlockFn = Callable[[Any, Any, int, int], "pa.Table"]

# name -> (parameter record type, the name of its size field, block builder)
GENERATORS: dict[str, tuple[type[Any], str, BlockFn]] = {
    "ab_test": (ABTestParams, "n_users", ab_block),
    "ab_events": (ABEventsParams, "n_users", ab_events_block),
    "transactions": (TransactionParams, "n_customers", transactions_block),
    "churn": (ChurnParams, "n_rows", churn_block),
    "panel": (PanelParams, "n_units", panel_block),
}


def _params(name: str, **kwargs: Any) -> tuple[Any, int, BlockFn]:
    if name not in GENERATORS:
        raise ParameterError(
            f"generator == {name!r}, must be one of {', '.join(GENERATORS)}",
            parameter="generator",
        )
    cls, size_field, block = GENERATORS[name]
    try:
        params = cls(**kwargs)
    except TypeError as exc:
        raise ParameterError(f"bad arguments for generator {name!r}: {exc}") from exc
    return params, int(getattr(params, size_field)), block


def iter_blocks(name: str, seed: int = 42, **kwargs: Any) -> Iterator[pa.Table]:
    """The generator's table as Arrow blocks of up to :data:`BLOCK` units each."""
    import numpy as np

    check("seed", seed)
    params, size, block = _params(name, **kwargs)
    for b, start in enumerate(range(0, size, BLOCK)):
        rng = np.random.default_rng([seed, b])
        yield block(params, rng, start, min(BLOCK, size - start))


def make(name: str, seed: int = 42, **kwargs: Any) -> pd.DataFrame:
    """The whole table in memory as pandas.

    Args:
        name: The generator: `ab_test`, `ab_events`, `transactions`, `churn` or `panel`.
        seed: Seed of the random draws (0 to `2**32 - 1`); block `b` of the table draws from
            `numpy.random.default_rng([seed, b])`.
        **kwargs: Fields of the generator's parameter record (`ABTestParams`, ...), e.g.
            `n_users=1_000` or `lift=0.1`, overriding its defaults.

    Returns:
        The generated table, one pandas DataFrame.

    Raises:
        ParameterError: An unknown generator, or a field it does not have or that is out
            of range.
    """
    import pyarrow as pa

    table = pa.concat_tables(list(iter_blocks(name, seed, **kwargs)))
    frame: pd.DataFrame = table.to_pandas()
    return frame


def write_parquet(
    name: str, path: str | Path, seed: int = 42, *, progress: bool = False, **kwargs: Any
) -> Path:
    """Stream the generator's table to one Parquet file, block by block (bounded memory).

    The file appears only when complete (written under a temporary name, then renamed).

    Args:
        name: The generator: `ab_test`, `ab_events`, `transactions`, `churn` or `panel`.
        path: The Parquet file to write (zstd-compressed); missing parent directories are
            created and an existing file is replaced.
        seed: Seed of the random draws; the rows equal those of `make` with the same seed.
        progress: Show a progress bar, one step per block of 100,000 units.
        **kwargs: Fields of the generator's parameter record, overriding its defaults.

    Returns:
        `path`, as a `Path`, once the file is complete.

    Raises:
        ParameterError: An unknown generator, or a bad field.
    """
    import os

    import pyarrow.parquet as pq

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    _, size, _ = _params(name, **kwargs)
    writer = None
    try:
        with progress_steps(-(-size // BLOCK), f"generating {name}") as advance:
            for table in iter_blocks(name, seed, **kwargs):
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
                writer.write_table(table)
                advance(f"{table.num_rows:,} rows")
        if writer is not None:
            writer.close()
        os.replace(tmp, target)
    except BaseException:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        raise
    return target


def make_ab_test(n_users: int = 100_000, seed: int = 42, **kwargs: Any) -> pd.DataFrame:
    """A user-level A/B test; see `ABTestParams` for the true parameters.

    Args:
        n_users: Number of users, one row each.
        seed: Seed of the random draws (0 to `2**32 - 1`); the same seed gives the same
            rows however the table is produced.
        **kwargs: Other fields of `ABTestParams` (the true parameters), overriding
            its defaults.

    Returns:
        One row per user: `user_id`, `variant` (`control` or `treatment`), `assigned_at`,
            `platform`, `country`, `pre_revenue` (the CUPED covariate), `sessions`,
            `converted`, `orders` and `revenue`.

    Raises:
        ParameterError: A field of `ABTestParams` is unknown or out of range.
    """
    return make("ab_test", seed, n_users=n_users, **kwargs)


def make_ab_events(n_users: int = 50_000, seed: int = 42, **kwargs: Any) -> pd.DataFrame:
    """An event-level A/B test with a fading novelty effect; see `ABEventsParams`.

    Args:
        n_users: Number of users; each has one row per session.
        seed: Seed of the random draws (0 to `2**32 - 1`); the same seed gives the same
            rows however the table is produced.
        **kwargs: Other fields of `ABEventsParams` (the true parameters), overriding
            its defaults.

    Returns:
        One row per session: `user_id`, `variant`, `platform`, `ts`, `pre_revenue`,
            `sessions`, `orders`, `converted` and `revenue`.

    Raises:
        ParameterError: A field of `ABEventsParams` is unknown or out of range.
    """
    return make("ab_events", seed, n_users=n_users, **kwargs)


def make_transactions(n_customers: int = 10_000, seed: int = 42, **kwargs: Any) -> pd.DataFrame:
    """A transaction log over months; see `TransactionParams`.

    Args:
        n_customers: Number of customers (about
            `n_customers * mean_per_month * 0.75 * months` rows).
        seed: Seed of the random draws (0 to `2**32 - 1`); the same seed gives the same
            rows however the table is produced.
        **kwargs: Other fields of `TransactionParams` (the true parameters), overriding
            its defaults.

    Returns:
        One row per purchase: `transaction_id`, `customer_id`, `ts` (UTC, naive),
            `amount`, `category` and `channel`.

    Raises:
        ParameterError: A field of `TransactionParams` is unknown or out of range.
    """
    return make("transactions", seed, n_customers=n_customers, **kwargs)


def make_churn(n_rows: int = 10_000, seed: int = 42, **kwargs: Any) -> pd.DataFrame:
    """A churn classification table with planted problems; see `ChurnParams`.

    Args:
        n_rows: Number of customers, one row each.
        seed: Seed of the random draws (0 to `2**32 - 1`); the same seed gives the same
            rows however the table is produced.
        **kwargs: Other fields of `ChurnParams` (the true parameters), overriding
            its defaults.

    Returns:
        One row per customer: the features (`tenure_months`, `monthly_charges`, `contract`,
            `region`, ...), the planted problem columns and the 0/1 target `churned`.

    Raises:
        ParameterError: A field of `ChurnParams` is unknown or out of range.
    """
    return make("churn", seed, n_rows=n_rows, **kwargs)


def make_panel(n_units: int = 1_000, seed: int = 42, **kwargs: Any) -> pd.DataFrame:
    """A unit-by-period panel for difference-in-differences; see `PanelParams`.

    Args:
        n_units: Number of units, each observed in every period.
        seed: Seed of the random draws (0 to `2**32 - 1`); the same seed gives the same
            rows however the table is produced.
        **kwargs: Other fields of `PanelParams` (the true parameters), overriding
            its defaults.

    Returns:
        One row per unit and period: `unit`, `period`, `cohort` (first treated period, 0
            if never), `treated`, `post`, `d` (treated now), `x` and the outcome `y`.

    Raises:
        ParameterError: A field of `PanelParams` is unknown or out of range.
    """
    return make("panel", seed, n_units=n_units, **kwargs)
