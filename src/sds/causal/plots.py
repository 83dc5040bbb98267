"""The causal results' figures, each drawn from a result's ``to_dict()``."""

from __future__ import annotations

from typing import Any

from sds.report.plots import forest_svg, lines_svg, pyplot, tidy_axes, to_svg


def rd_plot(d: dict[str, Any]) -> str:
    """Binned means of the outcome either side of the cutoff, with a line at the cutoff."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 2.6), dpi=100)
    for side, color in (("left", "#4878d0"), ("right", "#d65f5f")):
        rows = [r for r in d["tables"]["binned_means"] if r["side"] == side]
        ax.plot([r["x"] for r in rows], [r["y"] for r in rows], "o", color=color, markersize=3)
    ax.axvline(d["diagnostics"]["cutoff"], color="#888888", linewidth=0.8, linestyle="--")
    ax.set_ylabel(d["outcome"], fontsize=7)
    tidy_axes(ax, "running variable")
    return to_svg(fig)


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


def event_plot(d: dict[str, Any]) -> str:
    """Event-study estimates with intervals by period relative to adoption: line and band."""

    rows = d["tables"]["event_study"]
    return lines_svg(
        [r["relative_period"] for r in rows],
        {
            "effect": (
                [r["estimate"] for r in rows],
                [r["ci_lower"] for r in rows],
                [r["ci_upper"] for r in rows],
            )
        },
        xlabel="periods since adoption",
        ylabel=d["outcome"],
    )


def love_plot(d: dict[str, Any]) -> str:
    """Absolute standardized mean differences before and after, one row per covariate."""
    plt = pyplot()
    rows = d["tables"]["balance"]
    fig, ax = plt.subplots(figsize=(4.6, 0.6 + 0.25 * len(rows)), dpi=100)
    ys = list(range(len(rows)))[::-1]
    ax.plot([abs(r["smd_before"]) for r in rows], ys, "o", color="#d65f5f", markersize=4,
            label="before")  # fmt: skip
    ax.plot([abs(r["smd_after"]) for r in rows], ys, "o", color="#4878d0", markersize=4,
            label="after")  # fmt: skip
    ax.axvline(0.1, color="#888888", linewidth=0.8, linestyle="--")
    ax.set_yticks(ys)
    ax.set_yticklabels([r["covariate"] for r in rows])
    ax.legend(fontsize=6, frameon=False)
    tidy_axes(ax, "|standardized mean difference|")
    return to_svg(fig)


def overlap_plot(d: dict[str, Any]) -> str:
    """Propensity histograms of treated (up) and untreated (down) units."""
    plt = pyplot()
    rows = d["tables"]["overlap"]
    fig, ax = plt.subplots(figsize=(4.6, 2.4), dpi=100)
    left = [r["bin_low"] for r in rows]
    width = rows[0]["bin_high"] - rows[0]["bin_low"]
    ax.bar(left, [r["treated"] for r in rows], width=width, align="edge", color="#d65f5f",
           label="treated")  # fmt: skip
    ax.bar(left, [-r["control"] for r in rows], width=width, align="edge", color="#4878d0",
           label="untreated")  # fmt: skip
    ax.legend(fontsize=6, frameon=False)
    tidy_axes(ax, "propensity score")
    return to_svg(fig)
