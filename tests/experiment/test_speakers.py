"""Tests of the per-speaker answers (predict_per_speaker, speaker_mean) and their report."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from sklaudio.experiment import predict_per_speaker, run_experiment, speaker_mean


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


def test_report_scores_per_speaker_answers_from_held_out_probabilities():
    """Check run_experiment's per-speaker scores on features whose clip noise averages
    out: each speaker has four noisy clips, so per-speaker answers are right more often
    than clip answers, and per-speaker MAE is below the clip MAE."""
    rng = np.random.default_rng(0)
    n_spk, k = 40, 4
    gender = np.repeat(np.tile(["female", "male"], n_spk // 2), k)
    age = np.repeat(rng.uniform(20, 60, n_spk), k)
    groups = np.repeat(np.arange(n_spk), k)
    signal = np.c_[(gender == "male") * 1.0, (age - 40) / 10]
    X = signal + rng.normal(scale=[1.2, 0.8], size=(n_spk * k, 2))
    labels = pd.DataFrame({"gender": gender, "age": age})
    report = run_experiment(X, labels, groups=groups, targets=("gender", "age_years"),
                            denoise=False, n_C=2, n_splits=3, log=lambda *a: None,
                            features=pd.DataFrame(X, columns=["f0__a", "f0__b"]))
    g, a = report["targets"]["gender"], report["targets"]["age_years"]
    assert g["per_speaker"]["n_speakers"] == n_spk
    assert g["per_speaker"]["balanced_accuracy"] > g["balanced_accuracy"] + 0.05
    assert a["per_speaker"]["mae_years"] < a["mae_years"] - 0.5


def test_regressed_years_are_scored_as_age_groups_after_rounding():
    """Check the bucketing of held-out years: rounded to whole years (12.4 is a child,
    12.6 a teen), negative predictions clipped to 0, per-speaker years bucketed too."""
    from sklaudio.experiment._run import _as_age_groups

    y = np.array([6.0, 15.0, 30.0])
    exact = _as_age_groups(y, np.array([12.4, 12.6, 19.6]), None, "child-teen-adult")
    assert exact["as_age_groups"]["balanced_accuracy"] == 1.0
    assert "per_speaker" not in exact["as_age_groups"]
    res = _as_age_groups(y, np.array([-3.0, 25.0, 13.0]), np.array([7.0, 16.0, 44.0]),
                         "child-teen-adult")["as_age_groups"]
    assert res["labels"] == ["child", "teen", "adult"]
    assert res["confusion_matrix"] == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert res["per_speaker"]["balanced_accuracy"] == 1.0
