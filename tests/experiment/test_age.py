"""Tests of OrdinalBucketRegressor against a hand-made regression-and-rounding reference."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import balanced_accuracy_score
from sklearn.svm import SVR
from sklearn.utils.class_weight import compute_sample_weight

from sklaudio.datasets import COMMON_VOICE_AGES, bucket_ages
from sklaudio.exceptions import AudioWarning
from sklaudio.experiment._age import OrdinalBucketRegressor


def _ages(rng, n=300, weights=(0.1, 0.45, 0.2, 0.15, 0.07, 0.03)):
    """Features that carry age (two noisy views of it) and Common Voice buckets."""
    decade = rng.choice(6, size=n, p=weights)
    low, width = np.array([13, 20, 30, 40, 50, 60]), np.array([7, 10, 10, 10, 10, 10])
    years = np.floor(low[decade] + rng.uniform(0, 1, n) * width[decade])  # 13-19, 20-29...
    X = np.column_stack([years + rng.normal(0, 6, n), rng.normal(0, 1, n)])
    return X, np.asarray(bucket_ages(years, scheme="common_voice"), dtype=object), years


def test_equals_ridge_on_positions_rounded():
    """Check predictions against Ridge fitted on bucket positions by hand, rounded to
    the nearest position within the buckets seen (ties go to the younger bucket)."""
    X, y, _ = _ages(np.random.default_rng(0))
    model = OrdinalBucketRegressor(regressor=Ridge(alpha=3.0)).fit(X, y)
    assert model.classes_.tolist() == list(COMMON_VOICE_AGES[:6])  # none past sixties
    pos = np.array([list(COMMON_VOICE_AGES).index(v) for v in y], dtype=float)
    ref = Ridge(alpha=3.0).fit(X, pos)
    np.testing.assert_allclose(model.predict_value(X), ref.predict(X))
    idx = np.clip(np.ceil(ref.predict(X) - 0.5), 0, 5).astype(int)  # half rounds down
    np.testing.assert_array_equal(model.predict(X), np.array(COMMON_VOICE_AGES)[idx])


def test_midpoints_in_years_and_the_seen_range():
    """Check custom midpoints (years) are regressed and rounded to the nearest, and that
    answers stay within the youngest..oldest bucket of the training labels."""
    rng = np.random.default_rng(1)
    X, y, years = _ages(rng)
    keep = np.isin(y, ["twenties", "thirties", "forties"])
    mid = [16, 24.5, 34.5, 44.5, 54.5, 64.5, 74.5, 84.5, 94.5]
    model = OrdinalBucketRegressor(regressor=Ridge(alpha=1.0), categories=COMMON_VOICE_AGES,
                                   midpoints=mid).fit(X[keep], y[keep])
    assert model.classes_.tolist() == ["twenties", "thirties", "forties"]
    np.testing.assert_array_equal(model.midpoints_, [24.5, 34.5, 44.5])
    values = model.predict_value(X)
    ref = Ridge(alpha=1.0).fit(X[keep], np.array(mid)[[list(COMMON_VOICE_AGES).index(v)
                                                        for v in y[keep]]])
    np.testing.assert_allclose(values, ref.predict(X))
    expected = np.where(values <= 29.5, "twenties", np.where(values <= 39.5, "thirties",
                                                             "forties"))
    np.testing.assert_array_equal(model.predict(X), expected)


def test_balanced_weights_equal_scikit_learns_and_help_the_rare_buckets():
    """Check class_weight='balanced' is compute_sample_weight('balanced') passed to the
    regressor, and that it lifts balanced accuracy when one bucket crowds the others."""
    rng = np.random.default_rng(2)
    X, y, _ = _ages(rng, n=600)
    a = OrdinalBucketRegressor(regressor=SVR(C=1.0), class_weight="balanced").fit(X, y)
    b = OrdinalBucketRegressor(regressor=SVR(C=1.0)).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(a.predict_value(X), b.predict_value(X))
    X_test, y_test, _ = _ages(np.random.default_rng(3), n=600)
    plain = OrdinalBucketRegressor(regressor=SVR(C=1.0)).fit(X, y)
    assert balanced_accuracy_score(y_test, a.predict(X_test)) > \
        balanced_accuracy_score(y_test, plain.predict(X_test)) + 0.03


def test_order_from_categorical_known_scheme_or_numbers():
    X = np.arange(6, dtype=float)[:, None]
    y = pd.Series(pd.Categorical(["old", "old", "mid", "mid", "young", "young"],
                                 categories=["young", "mid", "old"], ordered=True))
    model = OrdinalBucketRegressor(regressor=Ridge(alpha=1e-6)).fit(X, y)
    assert model.classes_.tolist() == ["young", "mid", "old"]
    assert model.predict([[0.0], [5.0]]).tolist() == ["old", "young"]
    model = OrdinalBucketRegressor().fit(X, ["adult", "adult", "teen", "teen", "child", "child"])
    assert model.classes_.tolist() == ["child", "teen", "adult"]
    model = OrdinalBucketRegressor().fit(X, [30, 30, 20, 20, 10, 10])
    assert model.classes_.tolist() == [10, 20, 30]


def test_per_speaker_answer_from_mean_values():
    X, y, _ = _ages(np.random.default_rng(4))
    model = OrdinalBucketRegressor().fit(X, y)
    v = model.predict_value(X[:4])
    assert model.to_bucket([v.mean()])[0] == model.to_bucket([np.mean(v)])[0]
    assert model.to_bucket([0.5, 0.51, -3.0, 99.0]).tolist() == \
        ["teens", "twenties", "teens", "sixties"]


def test_bad_input_is_named():
    X = np.zeros((4, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioWarning)
        with pytest.raises(AudioWarning, match="no known order"):
            OrdinalBucketRegressor().fit(X, ["b", "a", "c", "a"])
    with pytest.raises(ValueError, match="'elderly', which is not among categories"):
        OrdinalBucketRegressor(categories=["teens", "twenties"]).fit(
            X, ["teens", "elderly", "teens", "twenties"])
    with pytest.raises(ValueError, match="midpoints must be 2 increasing numbers"):
        OrdinalBucketRegressor(categories=["a", "b"], midpoints=[3, 1]).fit(X, ["a", "b"] * 2)
    with pytest.raises(ValueError, match="continuous"):
        OrdinalBucketRegressor().fit(X, [0.5, 1.7, 2.2, 3.1])
