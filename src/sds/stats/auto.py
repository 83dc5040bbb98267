"""``sds stats auto``: check the assumptions, choose the test, and say why.

The decision table (tested case by case in ``tests/stats/test_auto.py``):

====================  ==============  ==========================================  ==============
outcome               design          what is checked                             chosen test
====================  ==============  ==========================================  ==============
0/1, false/true,      2 groups        (small counts: Fisher's exact p-value and   two-proportion
no/yes                                Newcombe's interval, inside the test)       (ztest)
two values or text    2+ groups       expected counts (Cochran: none < 1, at      chi-square
                                      most 20% < 5)
two values or text    2+ groups       expected counts fail Cochran's rule        Fisher's exact
numeric               paired          differences "normal enough" (below)        paired t
numeric               paired          otherwise                                  Wilcoxon
                                                                                  signed-rank
numeric               one sample      values normal enough                       one-sample t
numeric               one sample      otherwise                                  Wilcoxon
numeric, <= 10 levels 2+ groups       few distinct values: ordinal, many ties    Mann-Whitney /
                                                                                  Kruskal-Wallis
numeric               2 groups        both groups normal enough                  Welch t
numeric               2 groups        a group is not (or has < 3 values)         Mann-Whitney
numeric               3+ groups       all normal enough, Brown-Forsythe p >= a   ANOVA + Tukey
numeric               3+ groups       all normal enough, Brown-Forsythe p < a    Welch ANOVA +
                                                                                  Games-Howell
numeric               3+ groups       a group is not normal enough               Kruskal-Wallis
====================  ==============  ==========================================  ==============

"Normal enough" for a mean-based test: with fewer than 30 values, Shapiro-Wilk does not reject
at ``alpha``; with 30 or more (where Shapiro-Wilk rejects harmless departures), skewness within
+-1 and excess kurtosis within +-3, so heavy tails and strong skew send the data to a rank
test. Welch's t is chosen over Student's because it loses almost nothing when variances are
equal and stays valid when they are not. With large skewed samples the mean comparison is
still valid by the central limit theorem; the reasons say so, for when the mean is the
question (revenue per user), and Welch's t (``sds stats welch``) or, for 3+ groups, Welch's
ANOVA (``sds stats welch-anova``) then is the right choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

ORDINAL_MAX_LEVELS = 10
SMALL_N = 30


@dataclass
class Decision:
    """The chosen test, the check figures and the reasons in words. ``forced``: what to say
    instead of the reasons when the user forced another test (None: the reasons themselves),
    since a forced test must not read as if sds had chosen a different one."""

    test: str
    checks: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    forced: list[str] | None = None


def normal_enough(values: np.ndarray, alpha: float) -> tuple[bool, str]:
    """Whether a mean-based test suits ``values``, with the finding in words."""
    n = len(values)
    if n < 3 or np.ptp(values) == 0:
        return False, f"{n} value(s): too few (or too uniform) to check normality"
    if n < SMALL_N:
        p = float(stats.shapiro(values).pvalue)
        verdict = p >= alpha
        word = "does not reject" if verdict else "rejects"
        return verdict, f"n = {n}: Shapiro-Wilk {word} normality (p = {p:.3g})"
    skew, kurt = float(stats.skew(values)), float(stats.kurtosis(values))
    verdict = abs(skew) <= 1 and abs(kurt) <= 3
    shape = "close to normal" if verdict else "skewed or heavy-tailed"
    return verdict, f"n = {n}: skewness {skew:.2f}, excess kurtosis {kurt:.2f} ({shape})"


def choose_numeric(groups: dict[str, np.ndarray], alpha: float) -> Decision:
    """Two or more independent groups of a numeric outcome."""
    decision = Decision("")
    pooled = np.concatenate(list(groups.values()))
    levels = len(np.unique(pooled))
    decision.checks["distinct_values"] = levels
    decision.checks["group_sizes"] = {k: len(v) for k, v in groups.items()}
    several = len(groups) > 2
    if levels <= ORDINAL_MAX_LEVELS:
        decision.test = "kruskal" if several else "mannwhitney"
        decision.reasons.append(
            f"The outcome has only {levels} distinct values: it is ordinal or discrete with many "
            "ties, so a tie-corrected rank test fits."
        )
        return decision
    findings = {k: normal_enough(v, alpha) for k, v in groups.items()}
    decision.checks["normal_enough"] = {k: ok for k, (ok, _) in findings.items()}
    for name, (_, text) in findings.items():
        decision.reasons.append(f"Group {name!r}: {text}.")
    all_normal = all(ok for ok, _ in findings.values())
    if not all_normal:
        decision.test = "kruskal" if several else "mannwhitney"
        rank_test = "Kruskal-Wallis" if several else "Mann-Whitney U"
        decision.forced = [
            *decision.reasons,
            "Not every group suits a mean-based test: the checks point to a rank test "
            f"({rank_test}).",
        ]
        decision.reasons.append(
            f"Not every group suits a mean-based test, so a rank test is chosen ({rank_test})."
        )
        if min(len(v) for v in groups.values()) >= 100:
            mean_test = (
                "Welch's ANOVA (sds stats welch-anova)"
                if several
                else ("Welch's t-test (sds stats welch)")
            )
            decision.reasons.append(
                "With groups this large the comparison of means is still valid by the central "
                f"limit theorem: if the mean itself is the question, run {mean_test} instead."
            )
            decision.forced.append(
                "With groups this large the comparison of means is still valid by the central "
                "limit theorem: if the mean itself is the question, this test answers it."
            )
        return decision
    if not several:
        decision.test = "welch"
        ratio = _variance_ratio(groups)
        decision.checks["variance_ratio"] = ratio
        decision.reasons.append(
            f"Both groups suit a mean-based test; Welch's t-test fits (variance ratio "
            f"{ratio:.2f}), which stays valid whether or not the variances are equal."
        )
        return decision
    bf = float(stats.levene(*groups.values(), center="median").pvalue)
    decision.checks["brown_forsythe_p"] = bf
    if bf >= alpha:
        decision.test = "anova"
        decision.reasons.append(
            f"Brown-Forsythe does not reject equal variances (p = {bf:.3g}): one-way ANOVA, "
            "with Tukey HSD for the pairs."
        )
    else:
        decision.test = "welch-anova"
        decision.reasons.append(
            f"Brown-Forsythe rejects equal variances (p = {bf:.3g}): Welch's ANOVA, with "
            "Games-Howell for the pairs."
        )
    return decision


def _variance_ratio(groups: dict[str, np.ndarray]) -> float:
    variances = [float(np.var(v, ddof=1)) for v in groups.values()]
    return max(variances) / min(variances) if min(variances) > 0 else float("inf")


def choose_paired(differences: np.ndarray, alpha: float, one_sample: bool = False) -> Decision:
    ok, text = normal_enough(differences, alpha)
    what = "The values" if one_sample else "The paired differences"
    decision = Decision(
        ("one-sample" if one_sample else "paired") if ok else "wilcoxon",
        checks={"n": len(differences), "normal_enough": ok},
        reasons=[f"{what}: {text}."],
    )
    if ok:
        decision.reasons.append(f"{what} suit a t-test.")
    else:
        decision.reasons.append(f"{what} do not suit a t-test: the Wilcoxon signed-rank test fits.")
    return decision


def choose_counts(table: np.ndarray, binary_two_groups: bool) -> Decision:
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    small = float((expected < 5).mean())
    decision = Decision(
        "", checks={"min_expected_count": float(expected.min()), "share_expected_below_5": small}
    )
    if binary_two_groups:
        decision.test = "ztest"
        decision.reasons.append(
            "A 0/1 outcome in two groups: the two-proportion test, which gives the difference "
            "in proportions with its interval (with fewer than 5 successes or failures in a "
            "group it uses Fisher's exact p-value and Newcombe's interval)."
        )
    elif expected.min() < 1 or small > 0.2:
        decision.test = "fisher"
        decision.reasons.append(
            f"{small:.0%} of expected counts are below 5 (minimum {expected.min():.2f}): the "
            "chi-square approximation is poor, so Fisher's exact test fits."
        )
    else:
        decision.test = "chi2"
        decision.reasons.append(
            "Categorical outcome with ample expected counts: chi-square test of independence."
        )
    return decision


FAMILIES = {
    "ttest": "mean2",
    "welch": "mean2",
    "student": "mean2",
    "mannwhitney": "rank2",
    "paired": "mean_paired",
    "wilcoxon": "rank_paired",
    "one-sample": "mean_paired",
    "anova": "anova",
    "tukey": "anova",
    "welch-anova": "welch-anova",
    "games-howell": "welch-anova",
    "kruskal": "rank3",
    "chi2": "chi2",
    "ztest": "chi2",
    "fisher": "fisher",
}


_COMPARABLE = (
    {"mean2", "rank2"},
    {"mean_paired", "rank_paired"},
    {"anova", "welch-anova", "rank3"},
    {"chi2", "fisher"},
)


def misfit(forced: str, decision: Decision) -> str | None:
    """A warning when the test the user forced is not the one the checks point to."""
    mine, chosen = FAMILIES.get(forced), FAMILIES.get(decision.test)
    if mine is None or chosen is None or mine == chosen:
        return None
    if not any({mine, chosen} <= family for family in _COMPARABLE):
        return None
    why = " ".join(decision.reasons if decision.forced is None else decision.forced)
    return (
        f"The data do not fit {forced!r}: {why} (the assumption checks suggest "
        f"{decision.test!r}: sds stats {decision.test})."
    )
