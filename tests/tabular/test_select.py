import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklaudio.tabular import SelectFeatures


def _table():
    rng = np.random.default_rng(0)
    cols = ["f0__f0_median", "f0__voiced_fraction", "mel__mel_000_mean", "formants__f1_median"]
    return pd.DataFrame(rng.normal(size=(6, 4)), columns=cols)


def test_pattern_keeps_matching_columns_in_order():
    X = _table()
    sel = SelectFeatures(pattern=r"^(formants|f0)__").fit(X)
    assert sel.support_.tolist() == [True, True, False, True]
    assert sel.get_feature_names_out().tolist() == [
        "f0__f0_median", "f0__voiced_fraction", "formants__f1_median"]
    np.testing.assert_array_equal(sel.transform(X), X.to_numpy()[:, [0, 1, 3]])
    out = sel.set_output(transform="pandas").transform(X)
    pd.testing.assert_frame_equal(out, X[["f0__f0_median", "f0__voiced_fraction",
                                          "formants__f1_median"]])


def test_none_keeps_all_columns_of_an_array():
    X = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(SelectFeatures().fit_transform(X), X)


def test_names_flow_from_a_pandas_feature_union():
    # the way make_age_gender_pipeline uses it
    union = FeatureUnion([
        ("f0", FunctionTransformer(lambda X: X[:, :1], feature_names_out=lambda *a: ["med"])),
        ("mel", FunctionTransformer(lambda X: X[:, 1:], feature_names_out=lambda *a: ["m0", "m1"])),
    ]).set_output(transform="pandas")
    X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.0, 1.0, 0.0], [7.0, 1.0, 2.0]])
    y = np.array([0, 1, 0, 1])
    pipe = make_pipeline(union, SelectFeatures(pattern="^f0__"), LogisticRegression())
    pipe.fit(X, y)
    assert pipe[1].get_feature_names_out().tolist() == ["f0__med"]
    assert pipe[-1].coef_.shape == (1, 1)


def test_errors_name_the_parameter_and_what_arrived():
    X = _table()
    with pytest.raises(ValueError, match=r"pattern='\^voice__'\) matches none of the 4 "
                                         r"columns, which start \['f0__f0_median'"):
        SelectFeatures(pattern="^voice__").fit(X)
    with pytest.raises(ValueError, match="X has none \\(it arrived as ndarray\\)"):
        SelectFeatures(pattern="^f0").fit(X.to_numpy())
    with pytest.raises(ValueError, match="not a valid regular expression"):
        SelectFeatures(pattern="(f0").fit(X)
    sel = SelectFeatures(pattern="^f0").fit(X)
    with pytest.raises(ValueError, match="feature names"):
        sel.transform(X.rename(columns={"f0__f0_median": "other"}))
