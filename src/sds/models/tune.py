"""Hyperparameter tuning: Optuna's TPE sampler with median pruning, scored by
cross-validation on the training split only.

Each trial fits the candidate's pipeline on the folds of the run's resampling plan
(:mod:`sds.models.resampling`: forward-chained in time order when the split was temporal,
grouped when it was grouped, stratified or shuffled otherwise) and reports the running mean
after every fold, so the pruner stops a trial that is already below the
median of earlier trials at that fold. The sampler is seeded; with a ``timeout`` the number
of trials that ran is recorded so a rerun can replay exactly that many.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sds.models.candidates import pipeline, search_space
from sds.models.resampling import ResamplingPlan

SCORING = {
    "binary": "roc_auc",
    "multiclass": "neg_log_loss",
    "regression": "neg_root_mean_squared_error",
}


@dataclass(frozen=True)
class Tuned:
    params: dict[str, Any]
    cv_scores: tuple[float, ...]  # the best parameters' score on each fold
    trials: int
    pruned: int
    scoring: str


def cv_scores(
    model: Any,
    x: pd.DataFrame,
    y: pd.Series,
    plan: ResamplingPlan,
    scoring: str,
    report: Any = None,
) -> list[float]:
    """The score on each fold of ``plan``; ``report(step, running_mean)`` after each (for
    pruning)."""
    from sklearn.base import clone
    from sklearn.metrics import get_scorer

    scorer = get_scorer(scoring)
    out: list[float] = []
    for step, (fit_rows, score_rows) in enumerate(plan.split(x)):
        fitted = clone(model).fit(x.iloc[fit_rows], y.iloc[fit_rows])
        out.append(float(scorer(fitted, x.iloc[score_rows], y.iloc[score_rows])))
        if report is not None:
            report(step, float(np.mean(out)))
    return out


def tune(
    name: str,
    task: str,
    x: pd.DataFrame,
    y: pd.Series,
    *,
    fixed: dict[str, Any],
    preprocessing: dict[str, Any],
    plan: ResamplingPlan,
    trials: int = 20,
    timeout: float | None = None,
    seed: int = 0,
    on_trial: Callable[[int, int], None] | None = None,
) -> Tuned:
    """The best parameters for candidate ``name`` by cross-validated score; with
    ``trials=0`` (baselines, ``tune: false``) just the score of the ``fixed`` ones.
    ``on_trial(number, trials)`` is called as each trial starts (numbered from 1)."""
    scoring = SCORING[task]
    if trials == 0:
        model = pipeline(name, task, fixed, preprocessing, seed)
        scores = cv_scores(model, x, y, plan, scoring)
        return Tuned(dict(fixed), tuple(scores), trials=0, pruned=0, scoring=scoring)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: Any) -> float:
        if on_trial is not None:
            on_trial(trial.number + 1, trials)
        params = {**search_space(name, task, trial), **fixed}
        model = pipeline(name, task, params, preprocessing, seed)

        def report(step: int, value: float) -> None:
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned

        scores = cv_scores(model, x, y, plan, scoring, report)
        trial.set_user_attr("scores", scores)
        return float(np.mean(scores))

    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    study.optimize(objective, n_trials=trials, timeout=timeout)
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    best = study.best_trial
    return Tuned(
        params={**best.params, **fixed},
        cv_scores=tuple(best.user_attrs["scores"]),
        trials=len(study.trials),
        pruned=pruned,
        scoring=scoring,
    )
