"""Sentence embeddings of a text column from a small model that ships inside its PyPI
package and loads offline: WordLlama's 256-dimension ``l2_supercat`` (``pip install
'sds-toolkit[text]'``). Dimensions can be truncated (64, 128) at a small cost in quality."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from sds.errors import ConfigError


@cache
def _model(dim: int) -> Any:
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as exc:
        raise ConfigError(
            "sentence embeddings need the wordllama package",
            hint="pip install 'sds-toolkit[text]'",
        ) from exc
    from pathlib import Path

    # The weights and tokenizer ship inside the package; pointing the cache at it keeps
    # loading offline (disable_download makes a missing file an error, not a download).
    here = Path(wordllama.__file__).parent
    trunc = None if dim == 256 else dim
    return WordLlama.load(cache_dir=here, disable_download=True, trunc_dim=trunc)


class SentenceEmbedding(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """One text column to ``dim`` embedding columns (missing text embeds as empty)."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def fit(self, x: Any, y: Any = None) -> SentenceEmbedding:
        frame = x if isinstance(x, pd.DataFrame) else pd.DataFrame(x)
        self.column_ = str(frame.columns[0])
        _model(self.dim)  # fail at fit, not at the first prediction
        return self

    def transform(self, x: Any) -> np.ndarray:
        values = pd.Series(np.asarray(x).ravel()).fillna("").astype(str).tolist()
        return np.asarray(_model(self.dim).embed(values), dtype=float)

    def get_feature_names_out(self, names: Any = None) -> np.ndarray:
        return np.array([f"{self.column_}_emb{i}" for i in range(self.dim)], dtype=object)
