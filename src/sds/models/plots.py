"""Plots of a model evaluation, as inline SVG: ROC and precision-recall curves, the
reliability diagram, residuals and the learning curve. Each draws from the points stored
in the evaluation's ``to_dict()``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sds.report.plots import pyplot, tidy_axes, to_svg


def curve_points(y: Any, p: Any, kind: str, limit: int = 200) -> dict[str, list[float]]:
    """ROC (``fpr``, ``tpr``) or precision-recall (``recall``, ``precision``) points,
    thinned to about ``limit`` for the report."""
    import numpy as np
    from sklearn.metrics import precision_recall_curve, roc_curve

    if kind == "roc":
        x, yy, _ = roc_curve(y, p)
        names = ("fpr", "tpr")
    else:
        yy, x, _ = precision_recall_curve(y, p)
        names = ("recall", "precision")
    keep = np.unique(np.linspace(0, len(x) - 1, min(limit, len(x))).round().astype(int))
    return {names[0]: x[keep].tolist(), names[1]: yy[keep].tolist()}


def curve_svg(
    x: Sequence[float], y: Sequence[float], xlabel: str, ylabel: str, diagonal: bool = False
) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3.0, 2.6), dpi=100)
    ax.plot(list(x), list(y), color="#4878d0", linewidth=1.5)
    if diagonal:
        ax.plot([0, 1], [0, 1], color="#888888", linewidth=0.8, linestyle="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(ylabel, fontsize=7)
    tidy_axes(ax, xlabel)
    return to_svg(fig)


def reliability_svg(deciles: Sequence[dict[str, Any]], tolerance: float) -> str:
    """Observed against predicted rate per decile, the diagonal, and the tolerance band."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3.0, 2.6), dpi=100)
    top = max([1e-9, *(max(d["predicted"], d["observed"]) for d in deciles)]) * 1.08
    ax.fill_between(
        [0, top],
        [-tolerance, top - tolerance],
        [tolerance, top + tolerance],
        color="#bbbbbb",
        alpha=0.3,
        linewidth=0,
    )
    ax.plot([0, top], [0, top], color="#888888", linewidth=0.8, linestyle="--")
    # by each decile's verdict on its interval: blue pass, red fail, grey not enough data
    palette = {"pass": "#4878d0", "fail": "#d65f5f"}
    colors = [palette.get(str(d.get("verdict")), "#999999") for d in deciles]
    ax.scatter([d["predicted"] for d in deciles], [d["observed"] for d in deciles], c=colors, s=14)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_ylabel("observed rate", fontsize=7)
    tidy_axes(ax, "mean predicted probability")
    return to_svg(fig)


def residual_svg(predicted: Sequence[float], residual: Sequence[float]) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3.6, 2.4), dpi=100)
    ax.scatter(list(predicted), list(residual), s=4, alpha=0.4, color="#4878d0")
    ax.axhline(0, color="#888888", linewidth=0.8, linestyle="--")
    ax.set_ylabel("residual (actual - predicted)", fontsize=7)
    tidy_axes(ax, "predicted")
    return to_svg(fig)


def learning_svg(curve: Sequence[dict[str, Any]], ylabel: str) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3.6, 2.4), dpi=100)
    rows = [c["rows"] for c in curve]
    ax.plot(rows, [c["train"] for c in curve], marker="o", markersize=3, label="train")
    ax.plot(rows, [c["validation"] for c in curve], marker="o", markersize=3, label="validation")
    ax.legend(fontsize=6, frameon=False)
    ax.set_ylabel(ylabel, fontsize=7)
    tidy_axes(ax, "training rows")
    return to_svg(fig)
