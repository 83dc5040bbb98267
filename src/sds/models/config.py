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

from typing import Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from sds.config import StrictModel
from sds.features.spec import TransformSpec, parse_window

Task = Literal["binary", "multiclass", "regression"]
CandidateName = Literal["dummy", "logistic", "linear", "hgb", "lightgbm", "xgboost"]
ThresholdRule = Literal["f1", "cost", "precision", "recall", "fixed"]
SplitMethod = Literal["stratified", "random", "temporal", "group"]
Recalibration = Literal["isotonic", "sigmoid"]
TASKS: tuple[str, ...] = get_args(Task)
CANDIDATES: tuple[str, ...] = get_args(CandidateName)
THRESHOLD_RULES: tuple[str, ...] = get_args(ThresholdRule)


class SplitConfig(StrictModel):
    """How the rows are split into train, validation and test."""

    method: SplitMethod | None = Field(
        default=None,
        description="stratified, random, temporal or group (default: stratified for a "
        "categorical target, else random).",
    )
    time_column: str | None = Field(default=None, description="Time column of a temporal split.")
    gap: str | None = Field(
        default=None, description='Rows just after each cut left out, e.g. "7d" (temporal).'
    )
    group_column: str | None = Field(
        default=None, description="Column whose groups stay on one side (group split)."
    )
    sizes: tuple[float, float, float] = Field(
        default=(0.70, 0.15, 0.15), description="Train, validation and test shares."
    )

    @field_validator("gap")
    @classmethod
    def _gap(cls, value: str | None) -> str | None:
        if value is not None:
            parse_window(value)  # a ValueError naming the gap, checked before any data is read
        return value


class Candidate(StrictModel):
    """A model to try: its name, fixed parameters, and whether Optuna tunes the rest."""

    name: CandidateName = Field(description="The model family.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Fixed parameters of the model."
    )
    tune: bool = Field(default=True, description="Let Optuna tune the parameters not fixed.")
    trials: int | None = Field(
        default=None, ge=1, le=10_000, description="Tuning trials (overrides tuning.trials)."
    )


class TuningConfig(StrictModel):
    """How Optuna tunes each candidate."""

    trials: int = Field(default=20, ge=1, le=10_000, description="Trials per candidate.")
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="Longest tuning time per candidate, in seconds (default: no limit, the "
        "trials alone stop it).",
    )
    folds: int = Field(
        default=5,
        ge=2,
        le=100,
        description="Folds of the resampling plan (forward-chained, grouped or "
        "stratified, as the split) used by tuning, the learning curve and the comparison.",
    )


class ThresholdConfig(StrictModel):
    """How the decision threshold is chosen on the validation split (binary tasks)."""

    by: ThresholdRule = Field(default="f1", description="f1, cost, precision, recall or fixed.")
    value: float = Field(
        default=0.5,
        description="The threshold for fixed; the precision or recall to reach for those.",
    )
    cost_fp: float = Field(default=1.0, description="Cost of a false positive (by: cost).")
    cost_fn: float = Field(default=1.0, description="Cost of a false negative (by: cost).")


class ScorecardConfig(StrictModel):
    """The success criteria; each is reported with its figure, its interval and a verdict
    (pass, fail, or not enough data) decided on the interval at ``alpha``."""

    alpha: float = Field(
        default=0.05,
        gt=0,
        lt=0.5,
        description="One-sided level of each verdict: the interval shown is the two-sided "
        "1 - 2 * alpha one (90% at 0.05); a criterion fails only when it lies wholly on "
        "the wrong side of the threshold, and passes only when wholly on the right side.",
    )
    auc_min: float = Field(default=0.85, description="Lowest test AUC that passes.")
    brier_max: float = Field(default=0.15, description="Highest test Brier score that passes.")
    calibration_tolerance: float = Field(
        default=0.05, description="Largest calibration error (predicted vs observed rate)."
    )
    gap_max: float = Field(default=0.05, description="Largest train-test metric gap (overfitting).")
    importance_coverage: float = Field(
        default=0.90, description="Share of importance the top features must cover."
    )
    single_feature_share_max: float = Field(
        default=0.8, description="Largest importance share of one feature (else suspect a leak)."
    )
    fairness_max: float = Field(
        default=0.10, description="Largest demographic-parity and equalized-odds differences."
    )
    fairness_ratio_min: float = Field(
        default=0.8, description="Lowest/highest selection rate (the four-fifths rule)."
    )
    reproducibility_tolerance: float = Field(
        default=1e-9, description="Largest metric difference when a run is reproduced."
    )


class TrainConfig(StrictModel):
    kind: Literal["train"] = Field(
        default="train", description="Always train: marks the file as a training config."
    )
    name: str = Field(default="model", description="The model's name.")
    data: str = Field(
        description="A source sds reads (file, glob, DuckDB table, SQL) or store://name@vN."
    )
    store: str | None = Field(
        default=None, description="Feature store folder, for data: store://name@vN."
    )
    labels: str | None = Field(
        default=None, description="Entity, label time and target, for a feature-store version."
    )
    target: str = Field(description="The column to predict.")
    task: Task | None = Field(
        default=None, description="binary, multiclass or regression (default: from the target)."
    )
    positive: bool | int | float | str | None = Field(
        default=None,
        description="Binary tasks: the label counted as the positive class, whose probability "
        "the model gives and every metric, threshold, calibration and fairness figure counts "
        "(default: the label 1, else true or yes, else the minority class of the rows; the "
        "report says which rule chose it).",
    )
    features: list[str] | None = Field(
        default=None, description="Feature columns (default: all but target, drop, protected)."
    )
    drop: list[str] = Field(default_factory=list, description="Columns that are not features.")
    protected: list[str] = Field(
        default_factory=list, description="Fairness groups, kept out of the features."
    )
    split: SplitConfig = Field(default_factory=SplitConfig, description="The data split.")
    candidates: list[Candidate] = Field(
        default_factory=lambda: [Candidate(name=n) for n in ("dummy", "logistic", "hgb")],
        description="Models to try (names or name/params/tune mappings).",
    )
    preprocessing: TransformSpec = Field(
        default_factory=TransformSpec, description="Imputation, encoding and scaling steps."
    )
    tuning: TuningConfig = Field(default_factory=TuningConfig, description="Optuna tuning.")
    threshold: ThresholdConfig = Field(
        default_factory=ThresholdConfig, description="How the decision threshold is chosen."
    )
    recalibrate: Recalibration | None = Field(
        default=None, description="isotonic or sigmoid (Platt), fitted on validation."
    )
    scorecard: ScorecardConfig = Field(
        default_factory=ScorecardConfig, description="The success criteria."
    )
    seed: int = Field(default=42, description="Seed of the split, tuning and models.")
    output: str | None = Field(
        default=None, description="Folder for the model (the CLI's --model-dir wins)."
    )
    tracking_uri: str | None = Field(
        default=None, description="MLflow tracking URI (default: sqlite:///mlruns.db)."
    )
    experiment: str = Field(default="sds", description="MLflow experiment name.")

    @field_validator("candidates", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _choices(self) -> TrainConfig:
        if not self.candidates:
            raise ValueError("candidates is empty: name at least one model")
        if self.data.startswith("store://") and not (self.store and self.labels):
            raise ValueError(
                "data from the feature store needs 'store' (its folder) and 'labels' (a "
                "table of entity, label time and the target)"
            )
        return self
