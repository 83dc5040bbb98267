"""Static plots as inline SVG (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    # Same data, same bytes: fixed ids, no date; text stays text (smaller, searchable).
    matplotlib.rcParams.update({"svg.hashsalt": "sds", "svg.fonttype": "none"})

    return plt


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    _pyplot().close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def histogram_svg(edges: Sequence[float], counts: Sequence[int], xlabel: str = "") -> str:
    """Bars of ``counts`` between consecutive ``edges``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(3.2, 1.9), dpi=100)
    widths = [b - a for a, b in itertools.pairwise(edges)]
    ax.bar(
        list(edges[:-1]),
        list(counts),
        width=widths,
        align="edge",
        color="#4878d0",
        edgecolor="white",
        linewidth=0.3,
    )
    _tidy(ax, xlabel)
    return _svg(fig)


def bar_svg(labels: Sequence[str], values: Sequence[float], xlabel: str = "") -> str:
    """Horizontal bars, first label on top (for top values)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(3.2, 0.3 + 0.22 * max(len(labels), 1)), dpi=100)
    short = [label if len(label) <= 18 else label[:17] + "…" for label in labels]
    ax.barh(short[::-1], list(values)[::-1], color="#ee854a")
    _tidy(ax, xlabel)
    return _svg(fig)


def _tidy(ax: Any, xlabel: str) -> None:
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=7)
