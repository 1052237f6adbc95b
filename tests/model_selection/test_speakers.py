"""Tests of the per-speaker answers (predict_per_speaker, speaker_mean) and their report."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from sklaudio.model_selection import predict_per_speaker, speaker_mean


def test_speaker_mean_equals_pandas_groupby_and_keeps_row_order():
    """Check the mean against pandas' groupby-transform on shuffled speakers, for one and
    several columns."""
    rng = np.random.default_rng(0)
    groups = rng.choice(["a", "b", "c", 7], size=40).astype(object)
    values = rng.normal(size=(40, 3))
    expected = pd.DataFrame(values).groupby(groups).transform("mean").to_numpy()
    np.testing.assert_allclose(speaker_mean(values, groups), expected, rtol=1e-12)
    np.testing.assert_allclose(speaker_mean(values[:, 0], groups), expected[:, 0], rtol=1e-12)


def test_classifier_answer_is_argmax_of_mean_probabilities():
    """Check that a speaker whose clips disagree gets the class of the higher mean
    probability, not a majority vote, and a one-clip speaker keeps its own prediction."""
    X = np.array([[0.0], [1.0], [4.0], [5.0]])
    clf = LogisticRegression(C=100).fit(X, ["low", "low", "high", "high"])
    X_new = np.array([[-3.0], [2.7], [2.6], [2.3]])
    groups = ["a", "a", "b", "b"]
    proba = clf.predict_proba(X_new)
    pred = predict_per_speaker(clf, X_new, groups)
    for spk in ("a", "b"):
        rows = [i for i, g in enumerate(groups) if g == spk]
        best = clf.classes_[proba[rows].mean(axis=0).argmax()]
        assert list(pred[rows]) == [best, best]
    assert pred[0] == "low"  # -3 is far on the low side, 2.7 only just on the high side
    assert list(predict_per_speaker(clf, X_new, ["a", "b", "c", "d"])) == list(clf.predict(X_new))


def test_regressor_answer_is_mean_prediction():
    X = np.arange(6.0)[:, None]
    reg = LinearRegression().fit(X, 2 * X.ravel() + 1)
    np.testing.assert_allclose(predict_per_speaker(reg, X, [0, 0, 1, 1, 1, 2]),
                               [2, 2, 7, 7, 7, 11])


@pytest.mark.parametrize("groups, msg", [
    (["a", "b"], "groups has 2 entries for 3 clips"),
    (["a", None, "b"], r"missing the speaker of clips \[1\]"),
])
def test_bad_groups_are_named(groups, msg):
    with pytest.raises(ValueError, match=msg):
        speaker_mean([1.0, 2.0, 3.0], groups)


def test_non_finite_values_are_refused():
    with pytest.raises(ValueError, match=r"non-finite entries at rows \[1\]"):
        speaker_mean([1.0, np.nan, 3.0], ["a", "a", "b"])


def test_unfitted_estimator_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        predict_per_speaker(LogisticRegression(), [[0.0]], ["a"])
