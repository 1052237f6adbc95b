"""Tests of StatsAccumulator against summarise / numpy on the whole series."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklaudio.features._accumulate import StatsAccumulator
from sklaudio.features._base import summarise
from sklaudio.features._f0 import _f0_summary
from sklaudio.features._formants import _nan_summary

ALL_STATS = ("mean", "std", "min", "max", "median")
PCT = (0, 5, 37.5, 95, 100)


def _chunks(n, rng):
    """Random cut points of range(n): chunk sizes from 1 to about n / 3."""
    cuts = np.sort(rng.choice(np.arange(1, n), size=rng.integers(0, min(n - 1, 12) + 1),
                              replace=False)) if n > 1 else []
    return np.split(np.arange(n), cuts)


def _accumulate(F, chunks, stats=ALL_STATS, pct=PCT, **kwargs):
    acc = StatsAccumulator(stats, pct, n_rows=F.shape[0], **kwargs)
    for idx in chunks:
        acc.update(F[:, idx])
    assert acc.n_frames == F.shape[1]
    return acc.result()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_equals_summarise_on_random_chunks(seed, dtype):
    """Check every statistic equals summarise on the whole series, for random chunkings."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    # an offset far from zero: a naive sum of squares would lose the std
    F = (1e4 + rng.standard_normal((4, n)) * rng.uniform(0.1, 10, (4, 1))).astype(dtype)
    got = _accumulate(F, _chunks(n, rng))
    # mean, std, min and max are summed in float64, more exact than numpy on float32
    want = summarise(F.astype(np.float64), ALL_STATS[:4], ())
    assert_allclose(got[:, :4], want, rtol=1e-10, atol=1e-9)
    # order statistics interpolate in the frames' own dtype, as summarise does
    assert_array_equal(got[:, 4:], summarise(F, ALL_STATS[4:], PCT))


def test_stat_order_follows_stats_then_percentiles():
    """Check the columns follow the order of stats (median anywhere) then percentiles."""
    rng = np.random.default_rng(1)
    F = rng.standard_normal((2, 101))
    stats = ("median", "max", "mean")
    assert_allclose(_accumulate(F, [slice(0, 50), slice(50, 101)], stats, (90,)),
                    summarise(F, stats, (90,)), rtol=1e-12)


def _with_nans(rng, n_rows, n):
    F = rng.standard_normal((n_rows, n)) * 100 + 500
    F[rng.random((n_rows, n)) < rng.uniform(0, 0.9, (n_rows, 1))] = np.nan
    F[0] = np.nan  # a row without a finite value
    F[1, : n // 2] = np.inf  # infinities are not finite values either
    return F


@pytest.mark.parametrize("seed", range(5))
def test_ignore_nan_matches_the_formant_summary(seed):
    """Check ignore_nan gives FormantFeatures' _nan_summary, all-NaN rows 0.0 included."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 2000))
    F = _with_nans(rng, 5, n)
    got = _accumulate(F, _chunks(n, rng), ignore_nan=True)
    want = _nan_summary(F, ALL_STATS, PCT).reshape(5, -1)
    assert_allclose(got, want, rtol=1e-10, atol=1e-9)
    assert_array_equal(got[0], 0.0)


@pytest.mark.parametrize("seed", range(3))
def test_ignore_nan_matches_the_f0_summary(seed):
    """Check ignore_nan on f0 with NaN at unvoiced frames gives F0Stats' summary."""
    rng = np.random.default_rng(seed)
    n = 700
    f0 = rng.uniform(80, 300, n)
    voiced = rng.random(n) < (0.5 if seed else 0.0)  # seed 0: no voiced frame at all
    got = _accumulate(np.where(voiced, f0, np.nan)[None], _chunks(n, rng),
                      ("mean", "median", "std"), (10, 90), ignore_nan=True)
    assert_allclose(got[0], _f0_summary(f0, voiced, (10, 90))[:-1], rtol=1e-10, atol=1e-9)


def test_nan_propagates_without_ignore_nan():
    """Check a NaN makes the statistics NaN, as numpy does, when ignore_nan is False."""
    F = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]])
    got = _accumulate(F, [[0], [1, 2]], ("mean", "max"), ())
    assert np.isnan(got[0]).all()
    assert_allclose(got[1], [2.0, 3.0])


def _stride(n, max_frames):
    s = 1
    while -(-n // s) > max_frames:
        s *= 2
    return s


@pytest.mark.parametrize("max_frames", [1, 7, 64, 1000])
def test_percentiles_beyond_max_frames_use_the_evenly_spaced_subsample(max_frames):
    """Check percentiles beyond max_frames are those of F[:, ::s], whatever the chunking."""
    rng = np.random.default_rng(max_frames)
    n = 5000
    F = rng.standard_normal((3, n)).astype(np.float32)
    s = _stride(n, max_frames)
    assert max_frames / 2 < len(range(0, n, s)) <= max_frames
    results = [_accumulate(F, _chunks(n, np.random.default_rng(k)), max_frames=max_frames)
               for k in range(4)]
    want = summarise(F[:, ::s], ALL_STATS, PCT)
    for got in results:
        # the order statistics: the subsample's, bit for bit, for every chunking
        assert_array_equal(got[:, 4:], results[0][:, 4:])
        assert_allclose(got[:, 4:], want[:, 4:], rtol=1e-6)
        # mean, std, min, max stay exact
        assert_allclose(got[:, :4], summarise(F.astype(np.float64), ALL_STATS[:4], ()),
                        rtol=1e-9, atol=1e-9)


def test_ignore_nan_subsamples_each_row_by_its_finite_values():
    """Check each row keeps every s-th of its own finite values (s set by its count)."""
    rng = np.random.default_rng(3)
    n, max_frames = 3000, 100
    F = _with_nans(rng, 4, n)
    got = _accumulate(F, _chunks(n, rng), ("median",), (25,), ignore_nan=True,
                      max_frames=max_frames)
    for row, g in zip(F, got):
        x = row[np.isfinite(row)]
        if x.size:
            v = x[:: _stride(x.size, max_frames)]
            assert_allclose(g, [np.median(v), np.percentile(v, 25)], rtol=1e-12)
        else:
            assert_array_equal(g, 0.0)


@pytest.mark.parametrize("q", [5, 50, 95])
def test_estimated_percentile_rank_error_is_within_the_documented_bounds(q):
    """Check the documented rank error bounds of an estimated percentile.

    Worst case (any series): |#{x <= v} - s * #{subsample <= v}| <= s * (1 + crossings
    of v). Series whose order is unrelated to the values: rank error as a fraction of
    the frames within 4 standard errors, 4 * 0.5 / sqrt(m).
    """
    rng = np.random.default_rng(q)
    n, max_frames = 200_000, 4096
    s = _stride(n, max_frames)
    m = len(range(0, n, s))
    slow = np.cumsum(rng.standard_normal(n))  # a random walk: few crossings of any level
    for x in (slow, rng.standard_normal(n)):
        v = _accumulate(x[None], _chunks(n, rng), (), (q,), max_frames=max_frames)[0, 0]
        below = x <= v
        crossings = np.count_nonzero(below[1:] != below[:-1])
        assert abs(below.sum() - s * below[::s].sum()) <= s * (1 + crossings)
    # the shuffled series: an unbiased subsample
    assert abs(below.mean() - q / 100) <= 4 * 0.5 / np.sqrt(m)


def test_errors_name_the_problem():
    """Check a wrong shape, an empty accumulator and a bad max_frames raise clearly."""
    acc = StatsAccumulator(("mean",), (), n_rows=2)
    with pytest.raises(ValueError, match=r"shape \(2, k\); got shape \(3, 4\)"):
        acc.update(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="before any frame"):
        acc.result()
    with pytest.raises(ValueError, match="max_frames=0"):
        StatsAccumulator(("mean",), (), n_rows=1, max_frames=0)
    with pytest.raises(ValueError, match="stats"):
        StatsAccumulator(("mode",), (), n_rows=1)
