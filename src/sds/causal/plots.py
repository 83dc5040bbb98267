"""The causal results' figures, each drawn from a result's ``to_dict()``."""

from __future__ import annotations

from typing import Any

from sds.report.plots import _pyplot, _svg, _tidy, forest_svg


def rd_plot(d: dict[str, Any]) -> str:
    """Binned means of the outcome either side of the cutoff, with a line at the cutoff."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 2.6), dpi=100)
    for side, color in (("left", "#4878d0"), ("right", "#d65f5f")):
        rows = [r for r in d["tables"]["binned_means"] if r["side"] == side]
        ax.plot([r["x"] for r in rows], [r["y"] for r in rows], "o", color=color, markersize=3)
    ax.axvline(d["diagnostics"]["cutoff"], color="#888888", linewidth=0.8, linestyle="--")
    ax.set_ylabel(d["outcome"], fontsize=7)
    _tidy(ax, "running variable")
    return _svg(fig)


def bandwidth_plot(d: dict[str, Any]) -> str:
    """The estimate and its robust interval at multiples of the chosen bandwidth."""
    rows = d["tables"]["bandwidths"]
    return forest_svg(
        [f"h x {r['bandwidth_factor']:g} ({r['bandwidth']:.3g})" for r in rows],
        [r["estimate"] for r in rows],
        [r["ci_lower"] for r in rows],
        [r["ci_upper"] for r in rows],
        xlabel="estimate",
        highlight=[r["bandwidth_factor"] == 1.0 for r in rows],
    )


def coefficient_plot(d: dict[str, Any], table: str, label: str, xlabel: str) -> str:
    """Estimates with intervals by relative period (event studies): line and band."""
    from sds.report.plots import lines_svg

    rows = d["tables"][table]
    return lines_svg(
        [r[label] for r in rows],
        {
            "effect": (
                [r["estimate"] for r in rows],
                [r["ci_lower"] for r in rows],
                [r["ci_upper"] for r in rows],
            )
        },
        xlabel=xlabel,
        ylabel=d["outcome"],
    )
