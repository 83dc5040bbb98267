"""Static plots as inline SVG (matplotlib figures outside pyplot, imported lazily)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

_FIGURE_KEYS = frozenset({"figsize", "dpi", "facecolor", "edgecolor", "frameon", "layout"})


class Figures:
    """The part of pyplot sds uses (``subplots``, ``close``), on figures pyplot never
    registers: no backend is chosen or switched, so a notebook's own plots keep the
    inline backend, and nothing is left open to close."""

    @staticmethod
    def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
        from matplotlib.figure import Figure

        fig = Figure(**{k: v for k, v in kwargs.items() if k in _FIGURE_KEYS})
        rest = {k: v for k, v in kwargs.items() if k not in _FIGURE_KEYS}
        return fig, fig.subplots(nrows, ncols, **rest)

    @staticmethod
    def close(fig: Any) -> None:
        """Nothing to do: the figure is garbage like any object once unreferenced."""


def pyplot() -> Figures:
    """Figures for reproducible SVG output (matplotlib imported lazily)."""
    import matplotlib

    # Same data, same bytes: fixed ids, no date; text stays text (smaller, searchable).
    matplotlib.rcParams.update({"svg.hashsalt": "sds", "svg.fonttype": "none"})

    return Figures()


def to_svg(fig: Any) -> str:
    """The figure as inline SVG markup; the figure is closed."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    pyplot().close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def histogram_svg(edges: Sequence[float], counts: Sequence[int], xlabel: str = "") -> str:
    """Bars of ``counts`` between consecutive ``edges``."""
    plt = pyplot()
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
    tidy_axes(ax, xlabel)
    return to_svg(fig)


def bar_svg(labels: Sequence[str], values: Sequence[float], xlabel: str = "") -> str:
    """Horizontal bars, first label on top (for top values)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3.2, 0.3 + 0.22 * max(len(labels), 1)), dpi=100)
    short = [label if len(label) <= 18 else label[:17] + "…" for label in labels]
    ax.barh(short[::-1], list(values)[::-1], color="#ee854a")
    tidy_axes(ax, xlabel)
    return to_svg(fig)


def tidy_axes(ax: Any, xlabel: str) -> None:
    """The house style of every plot: small ticks, no top or right spine, a small x label."""
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=7)


def forest_svg(
    labels: Sequence[str],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    xlabel: str = "",
    highlight: Sequence[bool] | None = None,
) -> str:
    """Point estimates with interval bars, first label on top, a line at zero."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 0.5 + 0.32 * max(len(labels), 1)), dpi=100)
    ys = list(range(len(labels)))[::-1]
    colors = [
        "#d65f5f" if (highlight is not None and highlight[i]) else "#4878d0"
        for i in range(len(labels))
    ]
    for y, est, lo, hi, color in zip(ys, estimates, lows, highs, colors, strict=True):
        ax.plot([lo, hi], [y, y], color=color, linewidth=1.6)
        ax.plot([est], [y], "o", color=color, markersize=4)
    ax.axvline(0, color="#888888", linewidth=0.8, linestyle="--")
    ax.set_yticks(ys)
    ax.set_yticklabels(list(labels))
    tidy_axes(ax, xlabel)
    return to_svg(fig)


def lines_svg(
    x: Sequence[Any],
    series: Mapping[str, tuple[Sequence[float], Sequence[float] | None, Sequence[float] | None]],
    xlabel: str = "",
    ylabel: str = "",
) -> str:
    """One line per series (values, optional lower and upper band), a line at zero."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 2.2), dpi=100)
    for name, (values, low, high) in series.items():
        line = ax.plot(list(x), list(values), linewidth=1.4, label=name)[0]
        if low is not None and high is not None:
            ax.fill_between(list(x), list(low), list(high), color=line.get_color(), alpha=0.15)
    ax.axhline(0, color="#888888", linewidth=0.8, linestyle="--")
    ax.set_ylabel(ylabel, fontsize=7)
    if len(series) > 1:
        ax.legend(fontsize=6, frameon=False)
    fig.autofmt_xdate()
    tidy_axes(ax, xlabel)
    return to_svg(fig)
