"""Tests of YeoJohnsonTransformer against sklearn's PowerTransformer and scipy."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.preprocessing import PowerTransformer

from sklaudio.tabular import YeoJohnsonTransformer
from sklaudio.tabular._power import yeojohnson_normmax_columns


def _columns(rng, n=120):
    """Skewed, symmetric, negative, mixed-sign, tiny- and large-scale columns."""
    return np.column_stack([
        rng.lognormal(size=n),
        rng.exponential(size=n),
        rng.normal(size=n),
        -rng.lognormal(size=n),
        100 * rng.normal(size=n) - 30,
        rng.lognormal(sigma=2.0, size=n),
        rng.standard_t(2, size=n),
        1e4 * rng.lognormal(size=n),
        1e-6 * rng.uniform(size=n),
        rng.poisson(2.0, size=n).astype(float),
    ])


def _llf(lmb, col):
    col = col[~np.isnan(col)]
    return stats.yeojohnson_llf(lmb, col)


def _assert_lambdas_as_good(ours, ref, X):
    """Each lambda equals the reference to 1e-4 or is at least as likely (1e-8 rel.)."""
    for j, (lo, lr) in enumerate(zip(ours, ref)):
        if abs(lo - lr) <= 1e-4 * max(1.0, abs(lr)):
            continue
        l_ours, l_ref = _llf(float(lo), X[:, j]), _llf(float(lr), X[:, j])
        assert l_ours >= l_ref - 1e-8 * abs(l_ref), (j, lo, lr)


@pytest.mark.parametrize("standardize", [True, False])
def test_matches_sklearn_power_transformer(rng, standardize):
    """Check lambdas_, transform and the scaler against PowerTransformer(yeo-johnson)."""
    X = _columns(rng)
    ref = PowerTransformer(standardize=standardize).fit(X)
    ours = YeoJohnsonTransformer(standardize=standardize).fit(X)
    assert ours.lambdas_.dtype == np.float64
    assert_allclose(ours.lambdas_, ref.lambdas_, rtol=1e-6, atol=1e-6)
    assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-5, atol=1e-5)
    assert_allclose(ours.fit_transform(X), ref.fit_transform(X), rtol=1e-5, atol=1e-5)
    if standardize:
        assert_allclose(ours._scaler.mean_, ref._scaler.mean_, rtol=1e-6, atol=1e-8)
        assert_allclose(ours._scaler.scale_, ref._scaler.scale_, rtol=1e-6)


def test_normmax_columns_matches_scipy(rng):
    """Check the vectorised search against scipy.stats.yeojohnson_normmax column by column."""
    X = np.column_stack([_columns(rng, n=60), rng.normal(size=(60, 5)) ** 3])
    ours = yeojohnson_normmax_columns(X)
    ref = np.array([stats.yeojohnson_normmax(col) for col in X.T])
    _assert_lambdas_as_good(ours, ref, X)
    # the same Brent iterations on the same objective: agreement far below the 1e-4 bound
    assert_allclose(ours, ref, rtol=1e-6, atol=1e-7)


def test_nans_ignored_in_fit_and_kept_in_transform(rng):
    """Check NaN handling matches PowerTransformer: ignored in fit, passed through."""
    X = _columns(rng)
    X[rng.random(X.shape) < 0.1] = np.nan
    ref = PowerTransformer().fit(X)
    ours = YeoJohnsonTransformer().fit(X)
    _assert_lambdas_as_good(ours.lambdas_, ref.lambdas_, X)
    assert_allclose(ours.lambdas_, ref.lambdas_, rtol=1e-5, atol=1e-6)
    out, out_ref = ours.transform(X), ref.transform(X)
    assert_array_equal(np.isnan(out), np.isnan(X))
    assert_allclose(out, out_ref, rtol=1e-5, atol=1e-5)


def test_constant_columns(rng):
    """Check constant columns get lambda 1 and the same output as sklearn (zeros)."""
    X = np.column_stack([rng.lognormal(size=50), np.full(50, 3.0), np.zeros(50),
                         np.full(50, -7.5)])
    ref = PowerTransformer().fit(X)
    ours = YeoJohnsonTransformer().fit(X)
    assert_array_equal(ours.lambdas_[1:], [1.0, 1.0, 1.0])
    assert_allclose(ours.lambdas_, ref.lambdas_, rtol=1e-6)
    assert_allclose(ours.transform(X), ref.transform(X), atol=1e-10)
    # without standardisation lambda = 1 is the identity
    raw = YeoJohnsonTransformer(standardize=False).fit_transform(X)
    assert_allclose(raw[:, 1:], X[:, 1:], rtol=1e-15)


def test_constant_with_nans_and_all_nan_column(rng):
    """Check a column constant apart from NaNs is constant; an all-NaN column raises."""
    X = np.column_stack([rng.lognormal(size=30), np.full(30, 3.0)])
    X[:4, 1] = np.nan
    yj = YeoJohnsonTransformer().fit(X)
    assert yj.lambdas_[1] == 1.0  # sklearn tests constancy with the NaNs in: huge lambda
    assert np.isfinite(yj.transform(X)[4:]).all()
    X[:, 1] = np.nan
    with pytest.raises(ValueError, match=r"Columns \[1\] of X are all NaN"):
        YeoJohnsonTransformer().fit(X)


def test_float32(rng):
    """Check float32 in gives float32 out and lambdas close to sklearn's float32 fit."""
    X = _columns(rng).astype(np.float32)
    ref = PowerTransformer().fit(X)
    ours = YeoJohnsonTransformer().fit(X)
    assert ours.lambdas_.dtype == np.float32
    _assert_lambdas_as_good(ours.lambdas_, ref.lambdas_, X.astype(np.float64))
    out = ours.transform(X)
    assert out.dtype == np.float32
    assert_allclose(out, ref.transform(X), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("standardize", [True, False])
def test_inverse_round_trip(rng, standardize):
    """Check inverse_transform(transform(X)) gives X back, NaNs included."""
    X = _columns(rng)[:, :8]  # the tiny-scale column's lambda ~ -5e5 is ill-conditioned
    X[3, 2] = np.nan
    yj = YeoJohnsonTransformer(standardize=standardize).fit(X)
    back = yj.inverse_transform(yj.transform(X))
    assert_allclose(back, X, rtol=1e-9, atol=1e-9)
    ref = PowerTransformer(standardize=standardize).fit(X)
    Z = yj.transform(_columns(rng)[:, :8])  # fresh data: inside the transform's range
    assert_allclose(yj.inverse_transform(Z), ref.inverse_transform(Z), rtol=1e-6, atol=1e-8)


def test_inverse_out_of_range_warns():
    """Check values beyond the transform's range give NaN and a warning naming the column."""
    X = np.column_stack([np.linspace(0, 1, 20) ** 4, np.linspace(1, 5, 20)])
    yj = YeoJohnsonTransformer(standardize=False).fit(X)
    assert yj.lambdas_[0] < 0  # positive range of the transform is bounded by -1/lambda
    with pytest.warns(UserWarning, match=r"columns \[0\]"):
        out = yj.inverse_transform(np.array([[-1 / yj.lambdas_[0] + 1.0, 2.0]]))
    assert np.isnan(out[0, 0]) and np.isfinite(out[0, 1])


def test_copy_false_works_in_place(rng):
    """Check copy=False writes the transform into the caller's float array."""
    X = _columns(rng)[:, :4]
    yj = YeoJohnsonTransformer(copy=False).fit(X)
    expected = YeoJohnsonTransformer().fit(X).transform(X)
    Xc = X.copy()
    out = yj.transform(Xc)
    assert out is Xc
    assert_allclose(Xc, expected)


def test_pandas_output_and_feature_names(rng):
    """Check feature names pass through and set_output gives a DataFrame on the same index."""
    df = pd.DataFrame(_columns(rng)[:, :3], columns=["a", "b", "c"], index=np.arange(120) + 7)
    yj = YeoJohnsonTransformer().set_output(transform="pandas").fit(df)
    assert_array_equal(yj.feature_names_in_, ["a", "b", "c"])
    assert_array_equal(yj.get_feature_names_out(), ["a", "b", "c"])
    out = yj.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert_array_equal(out.index, df.index)
    assert_allclose(out.to_numpy(), PowerTransformer().fit_transform(df.to_numpy()),
                    rtol=1e-5, atol=1e-5)
