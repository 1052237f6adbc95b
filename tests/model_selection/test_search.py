"""Tests of search_with_cached_features: what is computed once, and what never is."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from sklaudio.datasets import make_voices
from sklaudio.experiment import FEATURE_STEPS, VOICE_FEATURES, make_age_gender_pipeline
from sklaudio.io import AudioLoader
from sklaudio.model_selection import (
    StepCache,
    cacheable_prefix,
    is_cacheable,
    search_with_cached_features,
)


class RMSFeatures(TransformerMixin, BaseEstimator):
    """Stateless: log RMS and peak of each clip; counts the clips it transforms."""

    _sklaudio_cacheable = True
    calls = []

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        type(self).calls.append(len(X))
        return np.array([[np.log(np.sqrt(np.mean(np.square(x)))), np.log(np.abs(x).max())]
                         for x in X])


class LearnedOffset(TransformerMixin, BaseEstimator):
    """Learns from its training clips (not cacheable); records how many it saw."""

    fitted_on = []

    def fit(self, X, y=None):
        type(self).fitted_on.append(len(X))
        self.mean_ = np.mean([np.mean(np.abs(x)) for x in X])
        return self

    def transform(self, X):
        return np.array([[np.mean(np.abs(x)) - self.mean_] for x in X])


@pytest.fixture
def clips():
    rng = np.random.default_rng(0)
    X = [rng.normal(0, a, 4000) * rng.uniform(0.8, 1.2) for a in (0.05, 0.4) * 9]
    y = np.array(["quiet", "loud"] * 9)
    return X, y


def _pipe(names=("load", "features", "scale", "clf"), clf=None):
    steps = [AudioLoader(sr=8000), RMSFeatures(), StandardScaler(),
             clf if clf is not None else LogisticRegression()]
    return Pipeline(list(zip(names, steps)))


@pytest.mark.parametrize("names", [("load", "features", "scale", "clf"),
                                   ("read", "my_rms", "z", "model")])
def test_cacheable_steps_are_found_by_what_they_are_not_their_names(clips, names):
    """Check renamed steps take the fast path: the stateless steps run once, on all
    clips, and the scores equal GridSearchCV over the whole pipeline."""
    X, y = clips
    pipe = _pipe(names)
    grid = {f"{names[-1]}__C": [0.01, 0.1, 1.0]}
    cv = list(StratifiedKFold(3).split(X, y))
    RMSFeatures.calls.clear()
    search = search_with_cached_features(pipe, grid, X, y, cv=cv)
    assert search.n_cached_steps_ == 2
    assert RMSFeatures.calls == [len(X)]  # once, not per fold and grid point
    assert search.features_.shape == (len(X), 2)
    plain = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"])
    assert [n for n, _ in search.best_estimator_.steps] == list(names)
    np.testing.assert_array_equal(search.best_estimator_.predict(X),
                                  plain.best_estimator_.predict(X))


def test_a_learning_step_is_never_fitted_on_the_held_out_clips(clips):
    """Check a step that learns (inside a feature union) stops the cached prefix, so in
    cross-validation it is fitted on the training folds only."""
    X, y = clips
    union = FeatureUnion([("rms", RMSFeatures()), ("learned", LearnedOffset())])
    pipe = Pipeline([("load", AudioLoader(sr=8000)), ("features", union),
                     ("clf", LogisticRegression())])
    assert not is_cacheable(union) and cacheable_prefix(pipe) == 1
    LearnedOffset.fitted_on.clear()
    search = search_with_cached_features(pipe, {"clf__C": [0.1, 1.0]}, X, y, cv=3,
                                         refit=False)
    assert search.n_cached_steps_ == 1
    # 3 folds of 12 of the 18 clips; the 2 values of C reuse each fold's fit (StepCache)
    assert LearnedOffset.fitted_on == [12] * 3


def test_sklaudio_learning_steps_are_not_cacheable():
    from sklaudio.features import MelCodebook

    assert not is_cacheable(MelCodebook())
    assert not is_cacheable(FeatureUnion([("mel", MelCodebook()), ("rms", RMSFeatures())]))
    assert is_cacheable(Pipeline([("load", AudioLoader()), ("rms", RMSFeatures())]))
    scaler = StandardScaler()
    scaler._sklaudio_cacheable = True  # an instance cannot claim it: the class declares it
    assert not is_cacheable(scaler)


def test_the_model_step_is_always_searched(clips):
    X, y = clips
    pipe = Pipeline([("load", AudioLoader(sr=8000)), ("rms", RMSFeatures())])
    assert cacheable_prefix(pipe) == 2
    with pytest.raises(ValueError, match=r"tunes 'load__sr', a step whose output is computed"):
        search_with_cached_features(_pipe(), {"load__sr": [8000, 16000]}, X, y, cv=3)


def test_convergence_warnings_reach_the_user(clips):
    """Check the search silences no warning of the fits (only joblib.Memory's note)."""
    X, y = clips
    pipe = _pipe(clf=LogisticRegression(max_iter=1, tol=1e-12))
    with pytest.warns(ConvergenceWarning):
        search_with_cached_features(pipe, {"clf__C": [1.0, 10.0]}, X, y, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no other warning on a clean search
        search_with_cached_features(_pipe(), {"clf__C": [1.0]}, X, y, cv=3)


def test_step_cache_is_shared_by_the_copies_a_worker_unpickles():
    """Check each unpickled copy of one cache (one per batch a worker process receives)
    finds the fits of the earlier copies, so parallel grid points reuse fits."""
    X = np.arange(40.0).reshape(20, 2)
    y = [0, 1] * 10
    cache = StepCache()
    payload = pickle.dumps(cache)
    first, second = pickle.loads(payload), pickle.loads(payload)
    for copy_, C in ((first, 0.1), (second, 1.0)):
        Pipeline([("s", StandardScaler()), ("c", LogisticRegression(C=C))],
                 memory=copy_).fit(X, y)
    assert (first.misses, second.hits, second.misses) == (1, 1, 0)
    other = pickle.loads(pickle.dumps(StepCache()))  # another search: its own store
    Pipeline([("s", StandardScaler()), ("c", LogisticRegression())], memory=other).fit(X, y)
    assert other.misses == 1
    from sklaudio.model_selection._cache import _STORES

    assert list(_STORES) == [other._id]  # a worker keeps the latest search's store only


def test_parallel_search_equals_serial(clips):
    X, y = clips
    grid = {"clf__C": [0.01, 1.0], "scale": [StandardScaler(), "passthrough"]}
    serial = search_with_cached_features(_pipe(), grid, X, y, cv=3)
    parallel = search_with_cached_features(_pipe(), grid, X, y, cv=3, n_jobs=2)
    np.testing.assert_allclose(serial.cv_results_["mean_test_score"],
                               parallel.cv_results_["mean_test_score"])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("voices")
    return make_voices(10, n_clips_per_speaker=2, duration=(0.8, 1.2), path=path,
                       random_state=0)


def test_cached_search_scores_equal_plain_grid_search(corpus):
    """Check that extracting features once gives exactly the scores of GridSearchCV over
    the whole pipeline (the audio steps learn nothing), and that the returned model is
    the whole pipeline."""
    y = corpus.frame["gender"].to_numpy()
    pipe = make_age_gender_pipeline(denoise=False)
    grid = {"clf__C": [0.01, 1.0], "select__pattern": [None, VOICE_FEATURES]}
    cv = list(StratifiedGroupKFold(2).split(corpus.paths, y, corpus.groups))
    cached = search_with_cached_features(pipe, grid, corpus.paths, y, cv=cv,
                                         scoring="balanced_accuracy")
    # every audio step of the default pipeline declares itself cacheable
    assert cacheable_prefix(pipe) == cached.n_cached_steps_ == len(FEATURE_STEPS)
    plain = GridSearchCV(pipe, grid, cv=cv, scoring="balanced_accuracy").fit(corpus.paths, y)
    np.testing.assert_allclose(cached.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], rtol=1e-10)
    model = cached.best_estimator_
    assert [n for n, _ in model.steps][: len(FEATURE_STEPS)] == list(FEATURE_STEPS)
    np.testing.assert_array_equal(model.predict(corpus.paths),
                                  plain.best_estimator_.predict(corpus.paths))
