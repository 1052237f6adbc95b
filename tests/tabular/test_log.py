"""Tests of LogFeatures."""

import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sklaudio.tabular import LogFeatures


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "energy": rng.lognormal(0.0, 1.0, 300),   # skewed, positive
        "pitch": rng.normal(150.0, 20.0, 300),    # symmetric
        "centered": rng.lognormal(0.0, 1.0, 300) - 2.0,  # skewed, has negatives
        "count": rng.poisson(0.5, 300).astype(float),   # skewed counts with zeros
    })


def test_auto_picks_skewed_non_negative_columns(table):
    """Check auto selection takes the lognormal and count columns, not the normal one."""
    log = LogFeatures().fit(table)
    assert log.feature_names_in_[log.columns_].tolist() == ["energy", "count"]
    signed = LogFeatures(signed=True).fit(table)
    assert signed.feature_names_in_[signed.columns_].tolist() == ["energy", "centered", "count"]
    assert LogFeatures(skew_threshold=100).fit(table).columns_.size == 0


@pytest.mark.parametrize("signed", [False, True])
def test_transform_and_inverse_round_trip(table, signed):
    """Check log1p on chosen columns only, and inverse_transform restores the table."""
    cols = ["energy", "count"] + (["centered"] if signed else [])
    log = LogFeatures(cols, signed=signed).fit(table)
    Xt = log.transform(table)
    X = table.to_numpy()
    for j, name in enumerate(table.columns):
        want = X[:, j]
        if name in cols:
            want = np.sign(want) * np.log1p(np.abs(want))
        assert_allclose(Xt[:, j], want, rtol=1e-12)
    assert_allclose(log.inverse_transform(Xt), X, rtol=1e-10)


def test_columns_by_name_and_by_index_agree(table):
    """Check columns given by name and by position give the same result and names."""
    by_name = LogFeatures(["count", "energy"]).set_output(transform="pandas").fit_transform(table)
    by_index = LogFeatures([3, 0]).fit_transform(table.to_numpy())
    assert list(by_name.columns) == list(table.columns)
    assert_allclose(by_name.to_numpy(), by_index)
    assert LogFeatures([-1]).fit(table.to_numpy()).columns_.tolist() == [3]
    assert LogFeatures("all").fit(table.abs()).columns_.tolist() == [0, 1, 2, 3]


def test_negative_values_error_names_column_and_minimum(table):
    """Check a chosen column with negative values raises naming it and its minimum."""
    m = table["centered"].min()
    with pytest.raises(ValueError, match=re.escape(f"column 'centered' (index 2) has negative "
                                                   f"values (min {m:g}) in the data given to fit")):
        LogFeatures(["centered"]).fit(table)
    log = LogFeatures([0]).fit(np.abs(table.to_numpy()))
    bad = np.abs(table.to_numpy())
    bad[5, 0] = -3.0
    with pytest.raises(ValueError, match=re.escape("column 0 has negative values (min -3)")):
        log.transform(bad)


@pytest.mark.parametrize(
    "columns, X_kind, msg",
    [
        (["loudness"], "frame", "names column 'loudness', which is not in X"),
        (["energy"], "array", "X has no column names"),
        ([7], "array", "position 7, but X has 4 columns"),
        ([1.5], "array", "must hold column names or positions"),
    ],
)
def test_bad_columns_are_explained(table, columns, X_kind, msg):
    """Check unknown names, names without a DataFrame and bad positions are explained."""
    X = table if X_kind == "frame" else table.abs().to_numpy()
    with pytest.raises(ValueError, match=re.escape(msg)):
        LogFeatures(columns).fit(X)


def test_float32_preserved(table):
    """Check float32 input stays float32."""
    X = table.abs().to_numpy().astype(np.float32)
    assert LogFeatures("all").fit_transform(X).dtype == np.float32


def test_auto_columns_take_new_negative_values_with_the_signed_form():
    """Check that a column chosen by "auto" (non-negative in fit) does not fail on new
    data below zero: it gets sign(x) * log1p(|x|), which equals log1p on x >= 0, and
    the inverse still round-trips. Non-regression for a crash in cross-validation."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.lognormal(size=200), rng.normal(size=200)]
    lf = LogFeatures(columns="auto").fit(X)
    assert list(lf.columns_) == [0]
    new = np.array([[-0.5, 0.0], [2.0, 1.0]])
    out = lf.transform(new)
    np.testing.assert_allclose(out[:, 0], [-np.log1p(0.5), np.log1p(2.0)], rtol=1e-12)
    np.testing.assert_allclose(lf.inverse_transform(out), new, rtol=1e-12)
    with pytest.raises(ValueError, match="negative values"):
        LogFeatures(columns=[0]).fit(X).transform(new)
