"""The training config (``sds train --config prod.yaml``), validated with clear errors.

A misspelled key is an error that names the key meant (see :func:`sds.config.parse_spec`);
every section has defaults, so the smallest config is ``data`` and ``target``::

    data: customers.parquet          # any source sds reads: file, glob, DuckDB table, SQL,
                                     # or store://churn@v3 with store: and labels:
    target: churned
    split: {method: stratified}      # or temporal (time_column, gap), group (group_column)
    candidates: [dummy, logistic, hgb, lightgbm]
    tuning: {trials: 30, timeout: 600}
    protected: [gender]              # fairness groups, kept out of the features
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from sds.config import StrictModel
from sds.features.spec import TransformSpec

TASKS = ("binary", "multiclass", "regression")
CANDIDATES = ("dummy", "logistic", "linear", "hgb", "lightgbm", "xgboost")
THRESHOLD_RULES = ("f1", "cost", "precision", "recall", "fixed")


class SplitConfig(StrictModel):
    method: str | None = None  # stratified (classification) or random (regression) by default
    time_column: str | None = None
    gap: str | None = None  # e.g. "7d": rows just after each cut are left out
    group_column: str | None = None
    sizes: tuple[float, float, float] = (0.70, 0.15, 0.15)

    @field_validator("gap")
    @classmethod
    def _gap(cls, value: str | None) -> str | None:
        from sds.features.spec import parse_window

        if value is not None:
            parse_window(value)  # a ValueError naming the gap, checked before any data is read
        return value


class Candidate(StrictModel):
    """A model to try: its name, fixed parameters, and whether Optuna tunes the rest."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    tune: bool = True
    trials: int | None = Field(default=None, ge=1, le=10_000)  # overrides tuning.trials

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CANDIDATES:
            from sds.errors import close_matches

            near = close_matches(value, CANDIDATES)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"unknown candidate {value!r}{hint}; known: {', '.join(CANDIDATES)}")
        return value


class TuningConfig(StrictModel):
    trials: int = Field(default=20, ge=1, le=10_000)
    timeout: float | None = Field(default=None, gt=0)  # seconds per candidate
    folds: int = Field(default=5, ge=2, le=100)


class ThresholdConfig(StrictModel):
    """How the decision threshold is chosen on the validation split (binary tasks)."""

    by: str = "f1"
    value: float = 0.5  # the threshold itself for "fixed"; the target for precision/recall
    cost_fp: float = 1.0
    cost_fn: float = 1.0

    @field_validator("by")
    @classmethod
    def _rule(cls, value: str) -> str:
        if value not in THRESHOLD_RULES:
            raise ValueError(f"threshold.by == {value!r}, must be one of {THRESHOLD_RULES}")
        return value


class ScorecardConfig(StrictModel):
    """The success criteria; each is reported pass/fail with its figure."""

    auc_min: float = 0.85
    brier_max: float = 0.15
    calibration_tolerance: float = 0.05
    gap_max: float = 0.05
    importance_coverage: float = 0.90
    single_feature_share_max: float = 0.8  # one feature with more importance: suspect a leak
    fairness_max: float = 0.10  # demographic-parity and equalized-odds differences
    fairness_ratio_min: float = 0.8  # lowest / highest selection rate (the four-fifths rule)
    reproducibility_tolerance: float = 1e-9


class TrainConfig(StrictModel):
    kind: str = "train"
    name: str = "model"
    data: str  # a source sds reads, or store://name@vN (with store and labels)
    store: str | None = None  # feature store folder, for data: store://name@vN
    labels: str | None = None  # entity, label time and target, for a feature-store version
    target: str
    task: str | None = None  # binary, multiclass or regression; from the target by default
    features: list[str] | None = None  # default: every column but target, drop and protected
    drop: list[str] = Field(default_factory=list)
    protected: list[str] = Field(default_factory=list)
    split: SplitConfig = Field(default_factory=SplitConfig)
    candidates: list[Candidate] = Field(
        default_factory=lambda: [Candidate(name=n) for n in ("dummy", "logistic", "hgb")]
    )
    preprocessing: TransformSpec = Field(default_factory=TransformSpec)
    tuning: TuningConfig = Field(default_factory=TuningConfig)
    threshold: ThresholdConfig = Field(default_factory=ThresholdConfig)
    recalibrate: str | None = None  # isotonic or sigmoid (Platt), fitted on validation
    scorecard: ScorecardConfig = Field(default_factory=ScorecardConfig)
    seed: int = 42
    output: str | None = None  # folder for the model (the CLI's --model-dir wins)
    tracking_uri: str | None = None  # default: sqlite:///mlruns.db (in the working folder)
    experiment: str = "sds"

    @field_validator("candidates", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _choices(self) -> TrainConfig:
        if self.task is not None and self.task not in TASKS:
            raise ValueError(f"task == {self.task!r}, must be one of {', '.join(TASKS)}")
        if self.recalibrate not in (None, "isotonic", "sigmoid"):
            raise ValueError(f"recalibrate == {self.recalibrate!r}, must be isotonic or sigmoid")
        if not self.candidates:
            raise ValueError("candidates is empty: name at least one model")
        if self.data.startswith("store://") and not (self.store and self.labels):
            raise ValueError(
                "data from the feature store needs 'store' (its folder) and 'labels' (a "
                "table of entity, label time and the target)"
            )
        return self
