"""The drift statistics against closed forms and brute force."""

from itertools import combinations

import numpy as np
import pytest
from scipy import stats

from sklaudio.monitor import _stats


def _ks_exact_bruteforce(a, b):
    """Two-sided exact KS p-value by enumerating every split of the pooled sample."""
    pooled = np.r_[a, b]
    n, m = len(a), len(b)
    grid = np.sort(pooled)

    def d(x, y):
        fx = np.searchsorted(np.sort(x), grid, side="right") / len(x)
        fy = np.searchsorted(np.sort(y), grid, side="right") / len(y)
        return np.max(np.abs(fx - fy))

    observed = d(a, b)
    count = total = 0
    for idx in combinations(range(n + m), n):
        mask = np.zeros(n + m, dtype=bool)
        mask[list(idx)] = True
        total += 1
        count += d(pooled[mask], pooled[~mask]) >= observed - 1e-12
    return observed, count / total


@pytest.mark.parametrize("shift", [0.0, 0.8, 2.0])
def test_ks_exact_matches_enumeration(shift):
    """Check that the exact KS p-value is the share of pooled splits at least as extreme."""
    r = np.random.default_rng(3)
    a, b = r.normal(size=7), r.normal(shift, 1.0, size=6)
    stat, p = _stats.ks_test(a, b, method="exact")
    ref_stat, ref_p = _ks_exact_bruteforce(a, b)
    assert stat == pytest.approx(ref_stat, abs=1e-12)
    assert p == pytest.approx(ref_p, abs=1e-9)


def test_psi_closed_form():
    """Check PSI = sum((c - r) ln(c / r)) on proportions 0.5/0.5 against 0.8/0.2."""
    expected = 0.3 * np.log(0.8 / 0.5) + (-0.3) * np.log(0.2 / 0.5)
    assert _stats.psi_from_counts([50, 50], [80, 20]) == pytest.approx(expected, rel=1e-12)
    assert _stats.psi_from_counts([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0, abs=1e-15)
    # an empty bin is floored at 1e-4, so PSI stays finite
    assert np.isfinite(_stats.psi_from_counts([100, 0], [50, 50]))
    assert [_stats.psi_band(v) for v in (0.05, 0.1, 0.2, 0.25, 3.0)] == [
        "stable", "moderate", "moderate", "major", "major"]


def test_quantile_bins_split_reference_evenly():
    """Check that the reference fills its ten quantile bins equally, outliers the outer ones."""
    ref = np.arange(1000.0)
    edges = _stats.quantile_edges(ref, 10)
    assert len(edges) == 9
    assert np.array_equal(_stats.bin_counts(ref, edges), np.full(10, 100))
    assert np.array_equal(_stats.bin_counts(np.array([-5.0, 2000.0]), edges),
                          [1] + [0] * 8 + [1])


def test_constant_reference_bins_catch_both_sides():
    """Check that a constant reference column gets bins below, at and above its value."""
    edges = _stats.quantile_edges(np.full(50, 3.0), 10)
    counts = _stats.bin_counts(np.array([2.0, 3.0, 3.0, 4.0]), edges)
    assert counts.tolist() == [1, 2, 1]


def test_wasserstein_norm_of_a_shift():
    """Check that shifting every value by c gives W = c, normed by the reference std."""
    r = np.random.default_rng(0)
    ref = r.normal(0, 2.0, size=400)
    assert _stats.wasserstein_norm(ref, ref + 0.7) == pytest.approx(0.7 / np.std(ref),
                                                                    rel=1e-9)
    # constant reference: the std is floored at 1e-3 (Evidently's choice)
    assert _stats.wasserstein_norm(np.zeros(10), np.full(10, 0.5)) == pytest.approx(500.0)


@pytest.mark.parametrize("n, m", [(1, 1), (5, 300), (1000, 37)])
def test_wasserstein_equals_scipy(n, m):
    """Check our Wasserstein-1 against scipy.stats.wasserstein_distance, ties included."""
    r = np.random.default_rng(n)
    u = np.round(r.normal(size=n), 1)
    v = np.round(r.standard_t(3, size=m), 1)
    assert _stats.wasserstein_1d(u, v) == pytest.approx(stats.wasserstein_distance(u, v),
                                                        rel=1e-12, abs=1e-15)


def test_corrections_closed_form():
    """Check Bonferroni and Benjamini-Hochberg adjusted p-values computed by hand."""
    p = [0.01, 0.04, 0.03, 0.5]
    assert np.allclose(_stats.adjust_p_values(p, "bonferroni"), [0.04, 0.16, 0.12, 1.0])
    # BH: sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, min(0.06, 0.0533), 0.0533, 0.5
    assert np.allclose(_stats.adjust_p_values(p, "fdr_bh"),
                       [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])


def test_chi2_counts_by_hand():
    """Check the chi-square homogeneity test of two count rows against the formula."""
    ref, cur = np.array([30, 70]), np.array([50, 50])
    table = np.vstack([ref, cur]).astype(float)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    stat, p = _stats.chi2_counts(ref, cur)
    assert stat == pytest.approx(chi2, rel=1e-12)
    assert p == pytest.approx(stats.chi2.sf(chi2, 1), rel=1e-12)
    # a category absent from both is dropped; a single category cannot differ
    assert _stats.chi2_counts([30, 70, 0], [50, 50, 0]) == pytest.approx((stat, p))
    assert _stats.chi2_counts([10, 0], [3, 0]) == (0.0, 1.0)


@pytest.mark.parametrize("test", ["folds", "permutation"])
def test_classifier_test_separates_and_not(test):
    """Check the domain classifier: AUC near 1 on separated samples, p large on equal ones."""
    from sklearn.linear_model import LogisticRegression

    r = np.random.default_rng(1)
    ref = r.normal(size=(60, 3))
    far = r.normal(size=(40, 3)) + [2.0, 0, 0]
    same = r.normal(size=(40, 3))
    kw = dict(n_splits=5, test=test, n_permutations=30, random_state=0)
    auc, p = _stats.classifier_test(LogisticRegression(), ref, far, **kw)
    assert auc > 0.85 and p < 0.05
    auc0, p0 = _stats.classifier_test(LogisticRegression(), ref, same, **kw)
    assert auc0 < 0.7 and p0 > 0.05
