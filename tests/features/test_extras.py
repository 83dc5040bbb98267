"""The optional extras, installed by the dev extra so these tests always run: sentence
embeddings (``sds-toolkit[text]``, WordLlama's packaged model, loaded with downloads disabled) and
SHAP importance (``sds-toolkit[shap]``)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from sds.data import synth
from sds.features.importance import mean_abs_shap
from sds.features.select import select_features
from sds.features.text import SentenceEmbedding
from sds.features.transform import make_transformer


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_sentence_embeddings_place_similar_texts_close() -> None:
    texts = pd.DataFrame(
        {"note": ["the price is too high", "it costs too much money", "the app crashed on login"]}
    )
    vectors = SentenceEmbedding(dim=256).fit(texts).transform(texts["note"])
    assert vectors.shape == (3, 256)
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2])


def test_embeddings_in_the_transformer_handle_missing_text_and_pickle() -> None:
    df = pd.DataFrame({"note": ["great service", None, "slow delivery"], "x": [1.0, 2.0, 3.0]})
    ct = make_transformer({"embeddings": ["note"], "embedding_dim": 64}, df).fit(df)
    out = ct.transform(df)
    assert out.shape == (3, 1 + 64) and np.isfinite(out).all()
    again = pickle.loads(pickle.dumps(ct))
    np.testing.assert_array_equal(again.transform(df), out)


def test_shap_ranks_the_one_informative_feature_first() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4))
    y = (x[:, 0] + 0.3 * rng.normal(size=3000) > 0).astype(int)
    model = HistGradientBoostingClassifier(random_state=0).fit(x, y)
    values = mean_abs_shap(model, x[:500])
    assert np.argmax(values) == 0 and values[0] > 5 * values[1:].max()


def test_selection_reports_shap_next_to_permutation_importance() -> None:
    result = select_features(synth.make_churn(3000, seed=3), "churned", shap=True)
    top = result.importance[0]
    assert top["feature"] == "satisfaction"
    assert top["mean_abs_shap"] == max(r["mean_abs_shap"] for r in result.importance)
