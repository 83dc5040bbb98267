"""Which causal method fits the way treatment was assigned and the data at hand.

Five questions, each a flag on ``sds causal advise`` (asked interactively when missing):
how was treatment assigned; are units observed before and after; did treatment start at
one time or several; does a cutoff rule decide treatment fully or only raise its chance;
are the confounders measured. The answer names a method, the command to run, the
assumptions it rests on, and the checks sds will report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sds.params import OneOf, check
from sds.results import KeyValue, Note, Result, Section, jsonable_dict

ASSIGNMENTS = {
    "randomized": "a randomized experiment (A/B test)",
    "cutoff": "a rule: treated when a score crosses a threshold",
    "instrument": "something outside the unit's control shifted the chance of treatment",
    "policy": "a policy or launch switched on for some groups at some time",
    "self-selected": "units (or their managers) chose treatment themselves",
}


@dataclass(frozen=True)
class Advice(Result):
    title: ClassVar[str] = "Which causal method"
    method: str
    command: str
    why: str
    assumptions: tuple[str, ...]
    checks: tuple[str, ...]
    alternatives: tuple[str, ...]
    answers: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "method": self.method,
                "command": self.command,
                "why": self.why,
                "assumptions": list(self.assumptions),
                "checks": list(self.checks),
                "alternatives": list(self.alternatives),
                "answers": dict(self.answers),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        out: list[Section] = [
            KeyValue("Recommendation", [("method", d["method"]), ("command", d["command"])]),
            Note("Why", [d["why"]]),
            Note("Assumptions it needs", d["assumptions"]),
            Note("Checks sds reports", d["checks"]),
        ]
        if d["alternatives"]:
            out.append(Note("Also consider", d["alternatives"]))
        out.append(KeyValue("Your answers", list(d["answers"].items())))
        return out


def advise(
    assignment: str,
    *,
    panel: bool = False,
    staggered: bool = False,
    full_compliance: bool = True,
    confounders_measured: bool = True,
) -> Advice:
    """The method for a design, with its assumptions and the checks to read.

    Args:
        assignment: How treatment was assigned: `randomized` (an A/B test), `cutoff` (a score
            crossing a threshold), `instrument` (something outside the unit's control shifted
            its chance), `policy` (switched on for some groups at some time) or
            `self-selected` (units chose it).
        panel: Units are observed before and after treatment starts; read for `policy` and
            `self-selected`.
        staggered: Treatment started at different times for different units; read only with
            `panel`.
        full_compliance: The cutoff decides treatment fully (sharp RDD) rather than raising
            its chance (fuzzy RDD); read for `cutoff`.
        confounders_measured: Every variable driving both treatment and outcome is in the
            data; read for `self-selected` without a panel.

    Returns:
        The method, the `sds causal` command to run, why, the assumptions it needs, the
            checks sds reports, alternatives, and the answers that were used.

    Raises:
        ParameterError: `assignment` is not one of the five above.
    """
    check("assignment", assignment, OneOf(tuple(ASSIGNMENTS)))
    answers: dict[str, Any] = {"assignment": assignment}
    if assignment == "cutoff":
        answers["full_compliance"] = full_compliance
    elif assignment in ("policy", "self-selected"):
        answers["panel"] = panel
        if panel:
            answers["staggered"] = staggered
        elif assignment == "self-selected":
            answers["confounders_measured"] = confounders_measured
    pick = _pick(assignment, panel, staggered, full_compliance, confounders_measured)
    return Advice(answers=answers, **pick)


def _pick(
    assignment: str, panel: bool, staggered: bool, full: bool, measured: bool
) -> dict[str, Any]:
    if assignment == "randomized":
        return _RANDOMIZED
    if assignment == "cutoff":
        return _RDD_SHARP if full else _RDD_FUZZY
    if assignment == "instrument":
        return _IV
    if panel:
        return _STAGGERED if staggered else _DID
    if assignment == "policy":
        return {**_NO_PANEL_POLICY}
    return _AIPW if measured else _UNMEASURED


_CMD = "sds causal {m} --data FILE --outcome Y"
_RANDOMIZED = {
    "method": "experiment analysis",
    "command": "sds analyze --data FILE (see sds analyze --help)",
    "why": "Randomization makes the groups comparable by design; no causal modelling needed.",
    "assumptions": ("The randomization was honoured (check the sample-ratio mismatch).",),
    "checks": ("SRM test", "pre-experiment balance", "novelty over time"),
    "alternatives": ("CUPED when a pre-period metric exists",),
}
_RDD_SHARP = {
    "method": "rdd (sharp regression discontinuity)",
    "command": _CMD.format(m="rdd") + " --running SCORE --cutoff VALUE",
    "why": "Units just either side of the cutoff are alike except for treatment.",
    "assumptions": ("Continuity of the outcome at the cutoff without treatment.",
                    "No precise manipulation of the score."),
    "checks": ("density (manipulation) test", "covariate continuity", "placebo cutoffs",
               "bandwidth sensitivity", "RD plot"),
    "alternatives": (),
}  # fmt: skip
_RDD_FUZZY = {
    **_RDD_SHARP,
    "method": "rdd (fuzzy regression discontinuity)",
    "command": _CMD.format(m="rdd") + " --running SCORE --cutoff VALUE --treatment D",
    "why": "The cutoff raises the chance of treatment: it acts as an instrument at the "
    "threshold, and the effect is for units whose treatment the cutoff changes.",
}
_IV = {
    "method": "iv (instrumental variables, 2SLS)",
    "command": _CMD.format(m="iv") + " --treatment D --instrument Z --covariates X1,X2",
    "why": "An instrument moves treatment for reasons unrelated to the outcome's other causes.",
    "assumptions": ("Relevance (first-stage F well above 10).", "Exclusion restriction.",
                    "Independence of the instrument.", "Monotonicity (for a LATE)."),
    "checks": ("first-stage F and effective F", "Anderson-Rubin interval",
               "overidentification test", "endogeneity test"),
    "alternatives": ("LIML (--estimator liml) with many or weak instruments",),
}  # fmt: skip
_DID = {
    "method": "did (difference-in-differences, two-way fixed effects)",
    "command": _CMD.format(m="did") + " --treatment D --unit UNIT --time PERIOD",
    "why": "Units observed before and after, one start date: compare their changes.",
    "assumptions": ("Parallel trends without treatment.", "No anticipation."),
    "checks": ("placebo treatment dates", "randomization inference",
               "event study leads (sds causal event-study)"),
    "alternatives": ("event-study to see effects period by period",),
}  # fmt: skip
_STAGGERED = {
    "method": "staggered (Callaway-Sant'Anna difference-in-differences)",
    "command": _CMD.format(m="staggered") + " --treatment D --unit UNIT --time PERIOD",
    "why": "Treatment starts at different times; plain TWFE would compare late adopters "
    "with early ones and is biased when effects grow or fade.",
    "assumptions": ("Parallel trends for each cohort and its comparison group.",
                    "No anticipation; treatment stays on."),
    "checks": ("pre-period ATT(g, t) Wald test", "event-study plot by relative period"),
    "alternatives": ("did, to see how far TWFE moves (its negative-weight share)",),
}  # fmt: skip
_NO_PANEL_POLICY = {
    "method": "none reliable yet: collect before-and-after data",
    "command": "(gather outcomes for the same units before the policy, then sds causal did)",
    "why": "A policy with only post-launch data confounds the policy with who got it.",
    "assumptions": (),
    "checks": (),
    "alternatives": ("aipw if the groups' differences are fully measured",),
}
_AIPW = {
    "method": "aipw (doubly robust weighting)",
    "command": _CMD.format(m="aipw") + " --treatment D --covariates X1,X2,...",
    "why": "Treatment was chosen, but what drove the choice is measured: adjust for it. AIPW "
    "stays consistent if either the propensity or the outcome model is right.",
    "assumptions": ("No unmeasured confounding.", "Overlap (positivity)."),
    "checks": ("balance table and Love plot", "overlap histogram", "positivity warning",
               "E-value and robustness value"),
    "alternatives": ("psm for matched pairs and Rosenbaum bounds", "ipw"),
}  # fmt: skip
_UNMEASURED = {
    **_AIPW,
    "method": "none credible without a design: find an instrument, a cutoff or a panel",
    "command": "(look for a cutoff rule, an instrument or before-and-after data)",
    "why": "Self-selection on unmeasured factors biases every adjustment method; only a "
    "design feature can identify the effect.",
    "alternatives": ("aipw with the E-value, to say how strong the hidden bias must be",),
}
