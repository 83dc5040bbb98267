"""What ``sds stats`` runs: :class:`StatsSpec`, the one source of the parameters of
``sds.stats.run``, ``sds stats TEST`` (its fields become the ``--kebab-case`` options) and
``scripts/statistical_analyzer.py`` (its config keys).

Kept apart from the runner so the command line builds its options without loading numpy,
pandas or scipy.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, field_validator

from sds.config import StrictModel
from sds.params import Alternative, Correction, Rule

TestName = Literal[
    "ttest",
    "welch",
    "student",
    "paired",
    "one-sample",
    "mannwhitney",
    "wilcoxon",
    "sign",
    "ks",
    "chi2",
    "fisher",
    "ztest",
    "anova",
    "welch-anova",
    "kruskal",
    "tukey",
    "games-howell",
    "levene",
    "brown-forsythe",
    "pearson",
    "spearman",
    "kendall",
    "shapiro",
    "anderson",
    "dagostino",
    "ols",
    "logit",
    "poisson",
    "auto",
]
TEST_NAMES: tuple[str, ...] = get_args(TestName)
ALIASES = {"mann-whitney": "mannwhitney", "mwu": "mannwhitney", "chisq": "chi2", "t": "ttest"}
CovType = Literal["nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"]


class StatsSpec(StrictModel):
    """What to test and how; column names refer to the data. ``StatsSpec("ttest", ...)``
    takes the test first, as a positional argument."""

    test: TestName = Field(
        default="auto", description="Test to run, or auto (check the assumptions and choose)."
    )
    value: str | None = Field(
        default=None,
        description="Outcome column (two, comma-separated, for correlations or wide pairs).",
    )
    group: str | None = Field(default=None, description="Grouping column.")
    pair_id: str | None = Field(
        default=None, description="Id that pairs rows across the two groups (paired tests)."
    )
    formula: str | None = Field(
        default=None, description="Regression formula, e.g. 'revenue ~ price + C(region)'."
    )
    control: str | None = Field(
        default=None,
        description="Control group of a two-group comparison: results are treatment minus "
        "control (default: a level named control, ctrl, baseline or a, else the first sorted).",
    )
    alternative: Alternative = Field(
        default="two-sided",
        description="Alternative: two-sided, greater (treatment above) or less.",
    )
    alpha: Annotated[float, Rule("alpha")] = Field(
        default=0.05, description="Significance level (intervals and the assumption checks)."
    )
    equal_var: bool = Field(default=False, description="Student's t instead of Welch's.")
    mu: Annotated[float, Rule("mu")] = Field(
        default=0.0, description="Hypothesised mean or median (one-sample)."
    )
    by: str | None = Field(
        default=None, description="Run the test per level of this column, p-values adjusted."
    )
    correction: Correction = Field(
        default="holm", description="Multiple-testing correction across the --by levels."
    )
    cov_type: CovType | None = Field(
        default=None, description="Regression standard errors (default HC3 for ols, HC0 otherwise)."
    )
    cluster: str | None = Field(
        default=None, description="Cluster column for clustered standard errors."
    )
    event: str | None = Field(
        default=None,
        description="Outcome level counted as the event (chi2, fisher, ztest odds/risk).",
    )

    def __init__(self, test: str | None = None, /, **data: Any) -> None:
        super().__init__(**({"test": test} if test is not None else {}), **data)

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("test", mode="before")
    @classmethod
    def _canonical_test(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return ALIASES.get(value.lower(), value.lower())

    @field_validator("cov_type", mode="before")
    @classmethod
    def _canonical_cov_type(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return {c.lower(): c for c in get_args(CovType)}.get(value.lower(), value)

    @property
    def values(self) -> list[str]:
        return [v.strip() for v in (self.value or "").split(",") if v.strip()]

    @property
    def confidence(self) -> float:
        """Coverage of every interval the test reports: ``1 - alpha``."""
        return 1 - self.alpha
