"""Train/test alignment: does each feature look the same in two sets, and can a model tell
the sets apart?

- **PSI** per feature, by the project's one definition (:mod:`sds.stats.psi`, which
  ``sds monitor`` uses too): numbers in ``bins`` quantile bins of the reference, categories
  by the reference's 20 most common levels and one bin for all others (new levels land
  there), missing values in a bin of their own; shares floored at ``EPSILON`` so an empty
  bin counts as rare, not as infinite. 0.1 warns, 0.2 alerts (the usual rule of thumb).
- **KS** per numeric feature: ``scipy.stats.ks_2samp`` on the non-missing values.
- **Adversarial validation**: a gradient-boosting classifier learns which set each row comes
  from; its out-of-fold AUC is near 0.5 when the sets are exchangeable. The features that
  give the sets away are ranked by permutation importance of that classifier on held-out
  rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sds.data.finite import refuse_unusable
from sds.errors import DataError
from sds.features.leakage import encode
from sds.results import KeyValue, Note, Result, Section, jsonable_dict, records_table
from sds.stats.psi import EPSILON as EPSILON  # re-exported: the floor of empty bins
from sds.stats.psi import is_numeric as _numeric
from sds.stats.psi import psi

PSI_WARN, PSI_ALERT = 0.1, 0.2
FOLDS = 5  # of the adversarial classifier's cross-validation
MIN_ROWS = FOLDS  # per set: one in each fold
AUC_ALERT = 0.6


@dataclass(frozen=True)
class AlignmentResult(Result):
    """Per-feature drift between a reference and a current set, and the adversarial AUC."""

    title: ClassVar[str] = "Train/test alignment"
    reference: str
    current: str
    rows: tuple[int, int]
    features: tuple[dict[str, Any], ...]
    adversarial_auc: float
    giveaways: tuple[dict[str, Any], ...]
    verdict: str
    skipped: tuple[str, ...] = ()  # ID-like columns

    def to_dict(self) -> dict[str, Any]:
        return jsonable_dict(
            {
                "reference": self.reference,
                "current": self.current,
                "rows": list(self.rows),
                "verdict": self.verdict,
                "adversarial_auc": self.adversarial_auc,
                "giveaways": [dict(g) for g in self.giveaways],
                "features": [dict(f) for f in self.features],
                "skipped_id_like": list(self.skipped),
            }
        )

    def sections(self) -> list[Section]:
        d = self.to_dict()
        out: list[Section] = [
            KeyValue(
                "Alignment",
                [
                    ("verdict", d["verdict"]),
                    ("reference", f"{d['reference']} ({d['rows'][0]:,} rows)"),
                    ("current", f"{d['current']} ({d['rows'][1]:,} rows)"),
                    ("adversarial AUC (out of fold)", d["adversarial_auc"]),
                ],
            ),
            records_table("Features, most drifted first", d["features"]),
        ]
        if d["giveaways"]:
            out.append(records_table("What tells the sets apart", d["giveaways"]))
        out.append(
            Note(
                "Reading",
                [
                    f"PSI over {PSI_WARN} warns and over {PSI_ALERT} alerts; an adversarial "
                    f"AUC over {AUC_ALERT} means a model can tell the sets apart."
                ],
            )
        )
        return out


def align(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    exclude: list[str] | None = None,
    bins: int = 10,
    names: tuple[str, str] = ("reference", "current"),
    seed: int = 0,
) -> AlignmentResult:
    """Compare every feature the two sets share (less ``exclude``)."""
    from scipy import stats

    for frame, name in zip((reference, current), names, strict=True):
        if len(frame) < MIN_ROWS:
            raise DataError(
                f"needs at least {MIN_ROWS} rows per set (the adversarial check's folds)",
                source=name,
                found=f"{len(frame)} row(s)",
            )
    shared = [c for c in reference.columns if c in current.columns and c not in (exclude or [])]
    skipped = [c for c in shared if _id_like(reference[c])]
    shared = [c for c in shared if c not in skipped]
    if not shared:
        raise DataError(
            "the two sets share no columns",
            found=f"{list(reference.columns)[:5]} vs {list(current.columns)[:5]}",
        )
    for c in shared:
        _same_kind(c, (reference[c], current[c]), names)
    for frame, name in zip((reference, current), names, strict=True):
        refuse_unusable(frame, shared, name)
    rows = []
    for c in shared:
        value = psi(reference[c], current[c], bins)
        row: dict[str, Any] = {"feature": c, "psi": value, "ks": None, "ks_p_value": None}
        if _numeric(reference[c]) and _numeric(current[c]):
            a, b = reference[c].dropna(), current[c].dropna()
            if len(a) and len(b):
                with warnings.catch_warnings():  # small samples: scipy's own fallback
                    warnings.filterwarnings("ignore", "ks_2samp: Exact calculation")
                    ks = stats.ks_2samp(a, b)
                row.update(ks=float(ks.statistic), ks_p_value=float(ks.pvalue))
        row["missing_reference"] = float(reference[c].isna().mean())
        row["missing_current"] = float(current[c].isna().mean())
        row["status"] = "alert" if value > PSI_ALERT else "warn" if value > PSI_WARN else "ok"
        rows.append(row)
    rows.sort(key=lambda r: -float(r["psi"]))
    auc, giveaways = adversarial(reference[shared], current[shared], seed)
    drifted = [r["feature"] for r in rows if r["status"] == "alert"]
    verdict = "aligned"
    if drifted or auc > AUC_ALERT:
        verdict = "misaligned: " + (", ".join(drifted) if drifted else "jointly (adversarial AUC)")
    return AlignmentResult(
        reference=names[0],
        current=names[1],
        rows=(len(reference), len(current)),
        features=tuple(rows),
        adversarial_auc=auc,
        giveaways=tuple(giveaways),
        verdict=verdict,
        skipped=tuple(skipped),
    )


def _same_kind(column: str, sides: tuple[pd.Series, pd.Series], names: tuple[str, str]) -> None:
    """A DataError if ``column`` holds numbers in one set and text that is not a number in
    the other (a column with no values at all matches anything)."""
    numeric = [_numeric(x) for x in sides]
    if numeric[0] == numeric[1]:
        return
    text = sides[numeric.index(False)]
    values = text.dropna()
    odd = values[pd.to_numeric(values, errors="coerce").isna()]
    if odd.empty:  # no values, or numbers written as text: compared as numbers
        return
    i = numeric.index(True)
    raise DataError(
        f"holds numbers in {names[i]} ({sides[i].dtype}) but text in {names[1 - i]} ({text.dtype})",
        column=column,
        found=f"{len(odd):,} value(s) that are not numbers, e.g. {odd.iloc[0]!r}",
        expected="the same type in both sets",
        hint="Fix or filter the rows that are not numbers, or cast the column in both sets.",
    )


def _id_like(x: pd.Series) -> bool:
    """Text with a distinct value per row: an identifier, not a feature to compare."""
    return not _numeric(x) and not pd.api.types.is_bool_dtype(x) and x.nunique() == len(x) > 1


def adversarial(
    reference: pd.DataFrame, current: pd.DataFrame, seed: int = 0, top: int = 5
) -> tuple[float, list[dict[str, Any]]]:
    """Out-of-fold AUC of telling the sets apart, and the top features by importance."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

    both = pd.concat([reference, current], ignore_index=True)
    x = np.column_stack([encode(both[c]) for c in both.columns])
    y = np.r_[np.zeros(len(reference)), np.ones(len(current))]
    model = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    train, test = train_test_split(np.arange(len(y)), test_size=0.3, random_state=seed, stratify=y)
    x = _fold_safe(x, [rows for rows, _ in folds.split(x, y)] + [train])
    proba = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, proba))
    if auc <= AUC_ALERT:
        return auc, []
    model.fit(x[train], y[train])
    permuted = permutation_importance(
        model, x[test], y[test], scoring="roc_auc", n_repeats=5, random_state=seed
    )
    order = np.argsort(-permuted.importances_mean)[:top]
    return auc, [
        {
            "feature": both.columns[i],
            "auc_drop": float(permuted.importances_mean[i]),
            "std": float(permuted.importances_std[i]),
        }
        for i in order
        if permuted.importances_mean[i] > 0
    ]


def _fold_safe(x: np.ndarray, trainings: list[np.ndarray]) -> np.ndarray:
    """``x`` with the missing values of each column that has none in some training rows
    coded as a number below its values (gradient boosting cannot bin a column with no
    values; missingness still tells the sets apart). Other columns are left as they are."""
    empty = np.zeros(x.shape[1], dtype=bool)
    for rows in trainings:
        empty |= np.isnan(x[rows]).all(axis=0)
    if not empty.any():
        return x
    x = x.copy()
    for j in np.flatnonzero(empty):
        column = x[:, j]  # a view: filled in place
        known = column[~np.isnan(column)]
        column[np.isnan(column)] = known.min() - 1 if known.size else 0.0
    return x
