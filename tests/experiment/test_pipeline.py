"""Tests of the age/gender pipeline, the cached-feature grid search and the main command."""

import json
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, ParameterGrid, cross_val_predict

from sklaudio.datasets import make_voices
from sklaudio.experiment import (
    EMBEDDING_FEATURES,
    FEATURE_STEPS,
    VOICE_FEATURES,
    BalancedLDA,
    OrdinalBucketRegressor,
    age_gender_param_grid,
    make_age_gender_pipeline,
)
from tests.conftest import require_data


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("voices")
    return make_voices(10, n_clips_per_speaker=2, duration=(0.8, 1.2), path=path,
                       random_state=0)


def test_voice_selection_keeps_the_f0_formant_and_rhythm_columns(corpus):
    """Check that column names flow from the feature union to SelectFeatures, so the
    VOICE_FEATURES choice of the grid keeps exactly the f0, formant and temporal
    extractors' columns, in a pipeline fitted on paths."""
    y = corpus.frame["gender"].to_numpy()
    pipe = make_age_gender_pipeline(denoise=False, select=VOICE_FEATURES).fit(corpus.paths, y)
    union = pipe.named_steps["features"]
    expected = [f"{name}__{col}" for name, step in union.transformer_list
                if name in ("f0", "temporal", "formants")
                for col in step.get_feature_names_out()]
    kept = pipe.named_steps["select"].get_feature_names_out().tolist()
    assert sorted(kept) == sorted(expected) and len(kept) < union.get_feature_names_out().size
    assert pipe.named_steps["clf"].coef_.shape == (1, len(expected))


def test_embedding_adds_the_speaker_encoder_columns(corpus):
    """Check that embedding=True puts SpeakerEmbedding's 256 columns into the union, that
    they equal the transformer run alone on the trimmed clips, and that the grid's
    VOICE_FEATURES choice leaves them out."""
    from sklaudio.features import SpeakerEmbedding

    y = corpus.frame["gender"].to_numpy()
    pipe = make_age_gender_pipeline(denoise=False, embedding=True).fit(corpus.paths, y)
    front = pipe[: len(FEATURE_STEPS)]
    F = front.transform(corpus.paths)
    cols = [c for c in F.columns if c.startswith("embedding__")]
    assert len(cols) == 256 and F.shape[1] == 533 + 256
    trimmed = pipe[:3].transform(corpus.paths)
    np.testing.assert_allclose(F[cols].to_numpy(),
                               SpeakerEmbedding().fit_transform(trimmed), atol=1e-12)
    voice = make_age_gender_pipeline(denoise=False, embedding=True, select=VOICE_FEATURES)
    kept = voice.fit(corpus.paths, y).named_steps["select"].get_feature_names_out()
    assert not any(c.startswith("embedding__") for c in kept)


@pytest.mark.parametrize("task, regressor, model", [
    ("classification", "svr", "LogisticRegression"),
    ("regression", "svr", "SVR"),
    ("regression", "ridge", "Ridge"),
])
def test_every_grid_point_sets_valid_parameters_of_its_pipeline(task, regressor, model):
    pipe = make_age_gender_pipeline(task=task, regressor=regressor)
    assert type(pipe[-1]).__name__ == model
    grid = list(ParameterGrid(age_gender_param_grid(task=task, regressor=regressor)))
    assert len(grid) == 120
    for point in grid:
        pipe.set_params(**point)  # raises on a parameter the model does not have
    patterns = {point["select__pattern"] for point in grid}
    assert patterns == {None, VOICE_FEATURES}


@pytest.mark.parametrize("task, regressor, categories, n_grids, n_points", [
    ("classification", "svr", None, 3, 120 + 10 + 5),  # + logistic and LDA on the embedding
    ("classification", "svr", ["teens", "twenties"], 4, 120 + 10 + 5 + 10),  # + ordinal
    ("regression", "svr", None, 2, 120 + 10),
    ("regression", "ridge", None, 2, 120 + 10),
])
def test_embedding_grid_adds_models_on_the_embedding_alone(task, regressor, categories,
                                                           n_grids, n_points):
    """Check the grid with the embedding: the default grid unchanged first, then models
    on the embedding's columns only, without the log step, each of whose points sets
    valid parameters of the pipeline built with embedding=True."""
    grids = age_gender_param_grid(task=task, regressor=regressor, embedding=True,
                                  categories=categories)
    assert len(grids) == n_grids and len(ParameterGrid(grids)) == n_points
    assert grids[0].keys() == age_gender_param_grid(task=task, regressor=regressor).keys()
    for extra in grids[1:]:
        assert extra["select__pattern"] == [EMBEDDING_FEATURES]
        assert extra["log"] == ["passthrough"] and extra["pca"] == ["passthrough"]
    models = [type(g["clf"][0]).__name__ for g in grids[1:] if "clf" in g]
    if task == "classification":
        assert models == ["BalancedLDA"] + (["OrdinalBucketRegressor"] if categories else [])
        assert grids[2]["clf__shrinkage"] == [0.1, 0.3, 0.5, 0.7, 0.9]
    else:
        assert models == []
    if categories:
        assert grids[3]["clf"][0].categories == categories
    pipe = make_age_gender_pipeline(task=task, regressor=regressor, embedding=True)
    for point in ParameterGrid(grids):
        pipe.set_params(**point)


def test_embedding_lda_pipeline_equals_the_model_by_hand():
    """Check the model steps of make_age_gender_pipeline(select=EMBEDDING_FEATURES,
    log=False, scaler="unit", classifier="lda") against BalancedLDA fitted by hand on the
    embedding columns scaled to unit length (the other columns dropped)."""
    rng = np.random.default_rng(0)
    y = np.repeat(["teens", "twenties", "thirties"], 20)
    emb = np.abs(rng.normal(size=(60, 8))) + (y == "teens")[:, None] * [1, 0, 0, 0, 0, 0, 0, 0]
    F = pd.DataFrame(np.c_[rng.normal(size=(60, 2)), emb],
                     columns=["f0__a", "mel__b"] + [f"embedding__e{i}" for i in range(8)])
    steps = make_age_gender_pipeline(embedding=True, select=EMBEDDING_FEATURES, log=False,
                                     scaler="unit", classifier="lda",
                                     shrinkage=0.5)[len(FEATURE_STEPS):].fit(F, y)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    ref = BalancedLDA(shrinkage=0.5).fit(unit, y)
    np.testing.assert_allclose(steps.predict_proba(F), ref.predict_proba(unit))
    assert isinstance(steps[-1], BalancedLDA) and steps[-1].shrinkage == 0.5


def test_ordinal_classifier_regresses_bucket_positions():
    pipe = make_age_gender_pipeline(classifier="ordinal", alpha=3.0)
    assert isinstance(pipe[-1], OrdinalBucketRegressor)
    assert pipe[-1].regressor.alpha == 3.0 and pipe[-1].class_weight == "balanced"


def test_bad_classifier_is_named():
    with pytest.raises(ValueError, match="classifier='svm'; expected 'logistic', 'lda'"):
        make_age_gender_pipeline(classifier="svm")


def test_bad_regressor_is_named():
    with pytest.raises(ValueError, match="regressor='lasso'; expected 'svr' or 'ridge'"):
        make_age_gender_pipeline(task="regression", regressor="lasso")
    with pytest.raises(ValueError, match="regressor='lasso'"):
        age_gender_param_grid(task="regression", regressor="lasso")


@pytest.fixture(scope="module")
def speechocean_first_clips():
    """Features and ages of one clip of each of speechocean762's 125 speakers (6-43 y)."""
    from sklaudio.datasets import read_dataset

    m = read_dataset(require_data("speechocean762"))
    first = ~pd.Series(m.groups).duplicated().to_numpy()
    paths = [p for p, keep in zip(m.paths, first) if keep]
    age = m.labels["age"].to_numpy(float)[first]
    F = make_age_gender_pipeline(denoise=False)[: len(FEATURE_STEPS)].fit_transform(paths)
    return F, age


def test_age_in_years_of_real_children_and_adults(speechocean_first_clips):
    """Check the default regression model (SVR) on voice features against real ages:
    speechocean762, one clip of each of its 125 speakers (ages 6-43), speaker-disjoint
    5-fold CV. Predicting the median age is off by 7.0 years on average; the SVR on f0,
    formants and rhythm by 4.8 (measured)."""
    F, age = speechocean_first_clips
    pipe = make_age_gender_pipeline(task="regression", select=VOICE_FEATURES, scaler="power",
                                    C=10.0, denoise=False)
    pred = cross_val_predict(pipe[len(FEATURE_STEPS):], F, age,
                             cv=KFold(5, shuffle=True, random_state=0))
    mae = np.mean(np.abs(pred - age))
    baseline = np.mean(np.abs(np.median(age) - age))
    assert mae < 0.75 * baseline, (mae, baseline)


def test_every_grid_cell_keeps_a_sensible_number_of_pca_components(speechocean_first_clips):
    """Check each (scaler, columns) cell of the default grid with PCA on real features:
    PCA keeps 99 % of the variance of standardised columns, so no column's scale after
    a scaler can take all of it. Then the same with two columns made nearly constant
    with one outlier each, which a RobustScaler turns into variances of about 1e5: PCA on
    the raw scale keeps one component there."""
    from sklearn.decomposition import PCA

    F, _ = speechocean_first_clips
    grid = age_gender_param_grid(n_C=1)
    model_steps = make_age_gender_pipeline(pca=True)[len(FEATURE_STEPS):-1]
    spiky = F.copy()
    for col in spiky.columns[[10, 20]]:  # two mel statistics
        spiky[col] = 1.0 + 1e-6 * np.arange(len(spiky)) / len(spiky)
        spiky.loc[spiky.index[0], col] = 300.0
    for data in (F, spiky):
        for scaler in grid["scaler"]:
            for pattern in grid["select__pattern"]:
                steps = model_steps.set_params(scaler=scaler, select__pattern=pattern).fit(data)
                n_cols = steps.named_steps["select"].get_feature_names_out().size
                kept = steps.named_steps["pca"][-1].n_components_
                assert kept >= min(len(data) - 1, n_cols) // 4, (type(scaler).__name__,
                                                                 pattern, kept, n_cols)
    raw = make_age_gender_pipeline()[len(FEATURE_STEPS):-2].fit_transform(spiky)
    assert PCA(n_components=0.99, svd_solver="full").fit(raw).n_components_ <= 2


def test_fitted_pipeline_predicts_identically_in_a_fresh_process(corpus, tmp_path):
    """Check that the fitted pipeline, pickled with joblib, predicts the same labels in
    a new Python process that has no training data, from paths and from loaded clips."""
    y = corpus.frame["gender"].to_numpy()
    pipe = make_age_gender_pipeline(denoise=False).fit(corpus.paths, y)
    expected = pipe.predict(corpus.paths)
    assert (expected == y).mean() >= 0.8  # the synthetic genders are learnable
    np.testing.assert_array_equal(pipe.predict(corpus.clips), expected)
    model = tmp_path / "model.joblib"
    joblib.dump(pipe, model)
    code = (
        "import sys, joblib, json; m = joblib.load(sys.argv[1]); "
        "print(json.dumps(list(m.predict(sys.argv[2:]))))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(model), *corpus.paths],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == list(expected)
