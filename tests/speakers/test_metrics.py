"""Verification metrics against scikit-learn and brute-force definitions."""

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import det_curve as sk_det_curve
from sklearn.metrics import precision_score, recall_score, roc_curve

from sklaudio.speakers import (
    det_curve,
    equal_error_rate,
    min_dcf,
    threshold_at_precision,
    verification_report,
)


def _trials(rng, n_tar=300, n_non=3000, d=2.0, ties=False):
    y = np.r_[np.ones(n_tar), np.zeros(n_non)].astype(int)
    s = np.where(y == 1, d, 0.0) + rng.normal(size=y.size)
    if ties:
        s = np.round(s, 1)
    return y, s


def _naive_rates(y, s, t):
    acc = s >= t
    return (acc & (y == 0)).sum() / (y == 0).sum(), (~acc & (y == 1)).sum() / (y == 1).sum()


@pytest.mark.parametrize("ties", [False, True])
def test_det_curve_matches_roc_curve(rng, ties):
    y, s = _trials(rng, ties=ties)
    fpr, fnr, thr = det_curve(y, s)
    r_fpr, r_tpr, r_thr = roc_curve(y, s, drop_intermediate=False)
    ours = {t: (a, b) for t, a, b in zip(thr, fpr, fnr)}
    for t, a, tpr in zip(r_thr, r_fpr, r_tpr):
        if np.isfinite(t):
            np.testing.assert_allclose(ours[t], (a, 1 - tpr), atol=1e-12)
    # and sklearn's own DET points are all on our curve
    k_fpr, k_fnr, k_thr = sk_det_curve(y, s)
    for t, a, b in zip(k_thr, k_fpr, k_fnr):
        np.testing.assert_allclose(ours[t], (a, b), atol=1e-12)
    assert np.all(np.diff(thr) > 0) and thr[-1] == np.inf and (fpr[-1], fnr[-1]) == (0, 1)


def test_equal_error_rate_is_where_rates_cross(rng):
    y, s = _trials(rng, ties=True)
    candidates = np.r_[np.unique(s), np.inf]
    rates = np.array([_naive_rates(y, s, t) for t in candidates])
    k = np.argmin(np.abs(rates[:, 0] - rates[:, 1]))
    eer, t = equal_error_rate(y, s, return_threshold=True)
    assert eer == pytest.approx(rates[k].mean()) and t == candidates[k]


def test_equal_error_rate_of_gaussian_scores():
    # targets N(d, 1), non-targets N(0, 1): EER = Phi(-d / 2)
    rng = np.random.default_rng(0)
    y, s = _trials(rng, n_tar=40000, n_non=40000, d=2.0)
    assert equal_error_rate(y, s) == pytest.approx(norm.cdf(-1.0), abs=0.005)
    # any increasing transform of the scores leaves it unchanged
    assert equal_error_rate(y, np.exp(s)) == equal_error_rate(y, s)


@pytest.mark.parametrize("p_target,c_miss,c_fa", [(0.01, 1, 1), (0.05, 10, 1), (0.5, 1, 1)])
def test_min_dcf_is_the_minimum_over_thresholds(rng, p_target, c_miss, c_fa):
    y, s = _trials(rng, n_tar=100, n_non=800)
    best = np.inf
    for t in np.r_[np.unique(s), np.inf, -np.inf]:
        pfa, pmiss = _naive_rates(y, s, t)
        cost = c_miss * p_target * pmiss + c_fa * (1 - p_target) * pfa
        best = min(best, cost / min(c_miss * p_target, c_fa * (1 - p_target)))
    assert min_dcf(y, s, p_target=p_target, c_miss=c_miss, c_fa=c_fa) == pytest.approx(best)
    assert 0 <= best <= 1


def test_verification_report_matches_sklearn(rng):
    y, s = _trials(rng)
    r = verification_report(y, s, threshold=1.2)
    pred = s >= 1.2
    assert r["precision"] == pytest.approx(precision_score(y, pred))
    assert r["recall"] == pytest.approx(recall_score(y, pred))
    far, frr = _naive_rates(y, s, 1.2)
    assert (r["far"], r["frr"]) == pytest.approx((far, frr))
    assert r["n_target"] == 300 and r["n_nontarget"] == 3000


def _resampled_to_prior(y, s, p_target, rng):
    """The trials with different-speaker ones repeated so that p_target are same-speaker."""
    tar, non = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_non = int(round(len(tar) * (1 - p_target) / p_target))
    keep = np.r_[tar, rng.choice(non, size=n_non, replace=True)]
    return y[keep], s[keep]


@pytest.mark.parametrize("p_target", [None, 0.5, 0.02])
def test_threshold_at_precision_against_brute_force(rng, p_target):
    y, s = _trials(rng, ties=True)
    target = 0.8
    p = y.mean() if p_target is None else p_target
    t, recall = threshold_at_precision(y, s, target, p_target=p_target)
    for c in np.r_[np.unique(s), np.inf]:  # brute force: the first threshold that qualifies
        pfa, pmiss = _naive_rates(y, s, c)
        accepted = (1 - pmiss) * p + pfa * (1 - p)
        if accepted > 0 and (1 - pmiss) * p / accepted >= target:
            break
    assert t == c and recall == pytest.approx(1 - _naive_rates(y, s, c)[1])
    # the precision it promises at the prior is what sklearn measures on trials drawn with it
    yr, sr = _resampled_to_prior(y, s, p, np.random.default_rng(1)) if p_target else (y, s)
    measured = precision_score(yr, sr >= t)
    assert measured == pytest.approx(
        verification_report(y, s, t, p_target=p)["precision_at_p_target"], abs=0.03)
    assert measured >= target - 0.03
    # rarer same-speaker trials need a stricter threshold
    if p_target == 0.02:
        assert t > threshold_at_precision(y, s, target, p_target=0.5)[0]


def test_threshold_at_precision_unreachable_says_the_best():
    # an impostor scores highest: no threshold beats the prior itself, 0.1
    with pytest.raises(ValueError, match="highest reachable on these trials is 0.1"):
        threshold_at_precision([1, 0, 1, 0], [1, 2, 3, 4], 0.5, p_target=0.1)


def test_verification_report_precision_at_the_trials_own_prior(rng):
    y, s = _trials(rng)
    r = verification_report(y, s, threshold=1.2, p_target=float(y.mean()))
    assert r["precision_at_p_target"] == pytest.approx(r["precision"], rel=1e-12)


@pytest.mark.parametrize("func", [det_curve, equal_error_rate, min_dcf])
def test_bad_trials_raise(func):
    with pytest.raises(ValueError, match="both same-speaker and different-speaker"):
        func([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="3 trials but scores has 2"):
        func([1, 0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"scores\[1\] is nan"):
        func([1, 0], [0.1, np.nan])
    with pytest.raises(ValueError, match="y_true must be 1/True"):
        func(["ann", "bob"], [0.1, 0.2])


@pytest.mark.parametrize("ties", [False, True])
def test_integer_weights_count_as_copies(rng, ties):
    """A trial of weight k gives the rates, EER and minDCF of the trials with k copies of it."""
    y, s = _trials(rng, n_tar=200, n_non=1500, ties=ties)
    w = rng.integers(0, 4, size=len(y))  # 0: the trial is dropped
    yr, sr = np.repeat(y, w), np.repeat(s, w)
    eer = equal_error_rate(y, s, sample_weight=w)
    assert eer == pytest.approx(equal_error_rate(yr, sr), abs=1e-12)
    assert eer != equal_error_rate(y, s)  # the weights matter
    for p in (0.01, 0.5):
        assert min_dcf(y, s, p_target=p, sample_weight=w) == pytest.approx(
            min_dcf(yr, sr, p_target=p), abs=1e-12)
    # every threshold of the copies' curve is one of the weighted curve's, same rates
    fpr, fnr, thr = det_curve(y, s, sample_weight=w)
    ours = {t: (a, b) for t, a, b in zip(thr, fpr, fnr)}
    r_fpr, r_fnr, r_thr = det_curve(yr, sr)
    for t, a, b in zip(r_thr, r_fpr, r_fnr):
        np.testing.assert_allclose(ours[t], (a, b), atol=1e-12)


def test_weighted_det_curve_matches_sklearn(rng):
    y, s = _trials(rng, n_tar=100, n_non=700, ties=True)
    w = rng.uniform(0.1, 3.0, size=len(y))
    fpr, fnr, thr = det_curve(y, s, sample_weight=w)
    ours = {t: (a, b) for t, a, b in zip(thr, fpr, fnr)}
    k_fpr, k_fnr, k_thr = sk_det_curve(y, s, sample_weight=w)
    assert len(k_thr) > 10
    for t, a, b in zip(k_thr, k_fpr, k_fnr):
        np.testing.assert_allclose(ours[t], (a, b), atol=1e-12)


@pytest.mark.parametrize("func", [det_curve, equal_error_rate, min_dcf])
def test_bad_weights_raise(func):
    y, s = [1, 0, 1, 0], [0.4, 0.1, 0.3, 0.2]
    with pytest.raises(ValueError, match="sample_weight has 3 entries but there are 4"):
        func(y, s, sample_weight=[1, 1, 1])
    with pytest.raises(ValueError, match="finite and non-negative"):
        func(y, s, sample_weight=[1, -1, 1, 1])
    with pytest.raises(ValueError, match="the same-speaker trials' weights sum to 0"):
        func(y, s, sample_weight=[0, 1, 0, 1])


def test_unit_weights_change_nothing(rng):
    y, s = _trials(rng, n_tar=50, n_non=300, ties=True)
    ones = np.ones(len(y))
    for a, b in zip(det_curve(y, s), det_curve(y, s, sample_weight=ones)):
        np.testing.assert_array_equal(a, b)
    assert equal_error_rate(y, s, sample_weight=ones, return_threshold=True) == \
        equal_error_rate(y, s, return_threshold=True)
    assert min_dcf(y, s, sample_weight=ones) == min_dcf(y, s)
