"""Tests of chance_level and permutation_test: closed forms against brute force and
scikit-learn's dummy models, p-values against their definition and their null
distribution, and why the shuffling must move whole speakers."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import accuracy_score, balanced_accuracy_score, mean_absolute_error

from sklaudio.datasets import COMMON_VOICE_AGES, mean_absolute_bucket_error
from sklaudio.model_selection import chance_level, permutation_test
from sklaudio.model_selection._chance import _class_scores

AGES = ["teens"] * 13 + ["twenties"] * 42 + ["thirties"] * 17 + ["forties"] * 14 + \
    ["fifties"] * 8 + ["sixties"] * 3  # commonvoice-en's speakers per bucket


def test_balanced_accuracy_chance_is_one_over_k_for_any_blind_answer():
    """Check 1/k against simulated models that ignore the input: constant answers
    (exactly 1/k) and random answers with skewed frequencies (1/k on average)."""
    y = np.array(AGES)
    assert chance_level(y, "balanced_accuracy") == pytest.approx(1 / 6)
    for c in np.unique(y):
        assert balanced_accuracy_score(y, np.full(len(y), c)) == pytest.approx(1 / 6)
    rng = np.random.default_rng(0)
    q = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.05])
    sims = [balanced_accuracy_score(y, rng.choice(np.unique(y), size=len(y), p=q))
            for _ in range(2000)]
    assert np.mean(sims) == pytest.approx(1 / 6, abs=3 * np.std(sims) / np.sqrt(2000))


def test_accuracy_chance_is_the_best_constant_answer():
    y = np.array(AGES)
    dummy = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(y), 1)), y)
    best = max(accuracy_score(y, np.full(len(y), c)) for c in np.unique(y))
    assert chance_level(y, "accuracy") == accuracy_score(y, dummy.predict(y[:, None])) == best
    assert chance_level(y, "accuracy") == pytest.approx(42 / 97)


def test_error_chances_are_the_median_answers_errors():
    """Check the median's error against scikit-learn's DummyRegressor and against every
    constant answer (none does better), in years and in buckets."""
    years = np.random.default_rng(1).gamma(4, 8, size=101) + 6
    dummy = DummyRegressor(strategy="median").fit(np.zeros((101, 1)), years)
    level = chance_level(years, "mean_absolute_error")
    assert level == pytest.approx(mean_absolute_error(years, dummy.predict(years[:, None])))
    grid = np.linspace(years.min(), years.max(), 2001)
    assert level <= min(np.mean(np.abs(years - g)) for g in grid) + 1e-12

    errors = [mean_absolute_bucket_error(AGES, [c] * len(AGES)) for c in COMMON_VOICE_AGES]
    assert chance_level(AGES, "mean_absolute_bucket_error") == pytest.approx(min(errors))
    # an even count whose two middle buckets differ: either middle one is a minimum
    even = ["teens"] * 2 + ["forties"] * 2
    assert chance_level(even, "mean_absolute_bucket_error") == pytest.approx(1.5)


def test_bucket_order_comes_from_categories_or_an_ordered_categorical():
    y = pd.Categorical(["child"] * 5 + ["teen"] + ["adult"] * 4,
                       categories=["child", "teen", "adult"], ordered=True)
    # positions 0 x5, 1, 2 x4: median 0.5, so "child" (as good as "teen"): error 9 / 10
    assert chance_level(y, "mean_absolute_bucket_error") == pytest.approx(9 / 10)
    assert chance_level(list(y), "mean_absolute_bucket_error",
                        categories=["child", "teen", "adult"]) == pytest.approx(9 / 10)
    with pytest.raises(ValueError, match="categories="):
        chance_level(list(y), "mean_absolute_bucket_error")


def _speaker_data(rng, n_speakers=60, clips=8, k=3):
    """Labels and random speaker-consistent predictions: a model that learned nothing
    but answers the same for all clips of a voice, as real models do."""
    speakers = np.repeat(np.arange(n_speakers), clips)
    y_spk = rng.integers(0, k, n_speakers)
    pred_spk = rng.integers(0, k, n_speakers)
    return speakers, y_spk[speakers], pred_spk[speakers]


def test_noise_predictions_are_not_better_than_chance():
    """Check that predictions unrelated to the labels get p > 0.05 in most runs when
    whole speakers are shuffled, and that shuffling single clips instead calls many of
    them significant: the speaker structure must be kept."""
    grouped, single = [], []
    for run in range(20):
        speakers, y, pred = _speaker_data(np.random.default_rng(run))
        grouped.append(permutation_test(y, pred, groups=speakers, n_permutations=200,
                                        random_state=run).p_value)
        single.append(permutation_test(y, pred, n_permutations=200, random_state=run).p_value)
    grouped, single = np.array(grouped), np.array(single)
    assert np.mean(grouped > 0.05) >= 0.9, grouped
    # clip-level shuffling calls noise significant four times as often as it should (0.05)
    assert np.mean(single < 0.05) >= 0.2, single


def test_perfect_predictions_get_the_smallest_p_value():
    rng = np.random.default_rng(3)
    speakers, y, _ = _speaker_data(rng)
    for metric in ("balanced_accuracy", "accuracy"):
        res = permutation_test(y, y, groups=speakers, metric=metric, n_permutations=300,
                               random_state=0)
        assert res.p_value == pytest.approx(1 / 301) and res.score == 1.0
    years = rng.uniform(6, 60, 60)[speakers]
    res = permutation_test(years, years, groups=speakers, metric="mean_absolute_error",
                           n_permutations=250, random_state=0)
    assert res.p_value == pytest.approx(1 / 251) and res.score == 0.0
    assert not res.greater_is_better
    # far worse than chance: the shufflings all do better
    res = permutation_test(years, 100 - years, groups=speakers, metric="mean_absolute_error",
                           n_permutations=250, random_state=0)
    assert res.p_value > 0.9


def test_scores_and_null_follow_their_definitions():
    """Check the score against scikit-learn / sklaudio's metric, the p-value against
    its count of null scores, and the null mean against its closed form: with equal
    clip counts per speaker, shuffled labels give balanced accuracy 1/k on average."""
    rng = np.random.default_rng(5)
    speakers, y, pred = _speaker_data(rng, n_speakers=80, clips=5, k=4)
    names = np.array(["a", "b", "c", "d"], dtype=object)
    res = permutation_test(names[y], names[pred], groups=speakers, n_permutations=2000,
                           random_state=1)
    assert res.score == pytest.approx(balanced_accuracy_score(names[y], names[pred]))
    assert res.chance_level == pytest.approx(1 / 4)
    assert res.p_value == pytest.approx((1 + np.sum(res.null_scores >= res.score)) / 2001)
    se = res.null_scores.std() / np.sqrt(2000)
    assert res.null_mean == pytest.approx(1 / 4, abs=4 * se)
    # every null score is a balanced accuracy of speaker-consistent labels: values on
    # the lattice of per-class recalls, never outside [0, 1]
    assert ((res.null_scores >= 0) & (res.null_scores <= 1)).all()

    buckets = np.array(COMMON_VOICE_AGES[:5], dtype=object)
    res = permutation_test(buckets[y], buckets[pred], groups=speakers,
                           metric="mean_absolute_bucket_error", n_permutations=200,
                           random_state=0)
    assert res.score == pytest.approx(mean_absolute_bucket_error(buckets[y], buckets[pred]))
    assert res.chance_level == pytest.approx(
        chance_level(buckets[y], "mean_absolute_bucket_error"))


def test_batched_class_scores_equal_scikit_learn():
    """Check the vectorised balanced accuracy / accuracy over many label rows against
    scikit-learn row by row, including a predicted class absent from the truth."""
    rng = np.random.default_rng(2)
    T = rng.integers(0, 3, size=(30, 50))
    p = rng.integers(0, 4, size=50)  # class 3 is never true
    ba = _class_scores(T, p, 4, "balanced_accuracy")
    acc = _class_scores(T, p, 4, "accuracy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = [balanced_accuracy_score(t, p) for t in T]
    np.testing.assert_allclose(ba, ref, rtol=1e-12)
    np.testing.assert_allclose(acc, [accuracy_score(t, p) for t in T], rtol=1e-12)


def test_same_random_state_same_answer():
    speakers, y, pred = _speaker_data(np.random.default_rng(7))
    a = permutation_test(y, pred, groups=speakers, n_permutations=200, random_state=4)
    b = permutation_test(y, pred, groups=speakers, n_permutations=200, random_state=4)
    np.testing.assert_array_equal(a.null_scores, b.null_scores)


def test_bad_input_is_named():
    y = np.array(["f", "f", "m", "m"], dtype=object)
    with pytest.raises(ValueError, match=r"differ within group 's1'.*one label"):
        permutation_test(y, y, groups=["s1", "s1", "s1", "s2"])
    with pytest.raises(ValueError, match="y_true has 4 rows but y_pred has 3"):
        permutation_test(y, y[:3])
    with pytest.raises(ValueError, match="groups has 2 rows"):
        permutation_test(y, y, groups=["a", "b"])
    with pytest.raises(ValueError, match=r"y_true is missing at row 1"):
        permutation_test(np.array(["f", None, "m", "m"], dtype=object), y)
    with pytest.raises(ValueError, match="metric='f1' is not known"):
        chance_level(y, "f1")
    with pytest.raises(ValueError, match="n_permutations=0"):
        permutation_test(y, y, n_permutations=0)
    with pytest.raises(ValueError, match="must be numbers"):
        chance_level(y, "mean_absolute_error")
    with pytest.raises(ValueError, match="'elderly', which is not among"):
        chance_level(["teens", "elderly"], "mean_absolute_bucket_error",
                     categories=COMMON_VOICE_AGES)
