"""Tests of the experiment's choices: targets, age scheme, the rows each target uses."""

import numpy as np
import pandas as pd
import pytest

from sklaudio.datasets import read_dataset
from sklaudio.experiment import check_experiment, choose_age_scheme, choose_targets, make_target
from tests.conftest import require_data


def test_common_voice_buckets_read_as_text_keep_their_order():
    """Check that age groups read back from a CSV as plain text are ordered as Common
    Voice's buckets (so the bucket error is computed), not alphabetically."""
    labels = pd.DataFrame({"age_group": ["twenties", "teens", "sixties", None]})
    y, task, cats, left_out = make_target(labels, "age", "common_voice")
    assert task == "classification"
    assert cats[:3] == ["teens", "twenties", "thirties"]
    assert list(y[:3]) == ["twenties", "teens", "sixties"] and pd.isna(y[3])
    assert left_out == {"no label": 1}


def test_gender_target_is_female_or_male_and_counts_what_it_leaves_out():
    labels = pd.DataFrame({"gender": ["male", "female", "other", None, "male"]})
    y, task, cats, left_out = make_target(labels, "gender", "auto")
    assert y.tolist()[:2] == ["male", "female"] and y[2:4].isna().all() and y[4] == "male"
    assert left_out == {"no label": 1, "not female or male": 1}


def test_years_are_bucketed_with_the_scheme():
    labels = pd.DataFrame({"age": [8.0, 15.0, np.nan, 40.0]})
    y, _, cats, left_out = make_target(labels, "age", "child-teen-adult")
    assert y[[0, 1, 3]].tolist() == ["child", "teen", "adult"] and pd.isna(y[2])
    assert cats == ["child", "teen", "adult"] and left_out == {"no label": 1}
    y, task, _, _ = make_target(labels, "age_years", "child-teen-adult")
    assert task == "regression" and y[3] == 40.0


@pytest.mark.parametrize("labels, scheme, expected", [
    ({"age": [8, 30]}, "auto", "child-teen-adult"),
    ({"age": [18, 30]}, "auto", "common_voice"),
    ({"age": ["teens", "forties"]}, "auto", "common_voice"),
    ({"age": [8, 30]}, "decades", "decades"),
])
def test_choose_age_scheme(labels, scheme, expected):
    assert choose_age_scheme(pd.DataFrame(labels), scheme) == expected


@pytest.mark.parametrize("labels, scheme, msg", [
    ({"age": [8, 30]}, "bogus", "age scheme 'bogus' is not known"),
    ({"age": [8, 30]}, "common_voice", r"age 8.0 is below the youngest age \(13\)"),
    ({"age": ["teens", "forties"]}, "decades", "are Common Voice buckets, not years"),
])
def test_choose_age_scheme_errors(labels, scheme, msg):
    with pytest.raises(ValueError, match=msg):
        choose_age_scheme(pd.DataFrame(labels), scheme)


def test_choose_targets():
    both = pd.DataFrame({"gender": ["male"], "age": [30.0], "x": [1]})
    assert choose_targets(both) == ["gender", "age"]
    assert choose_targets(pd.DataFrame({"gender": ["m"]})) == ["gender"]
    with pytest.raises(ValueError, match=r"no 'gender' or 'age' column .* \['label'\]"):
        choose_targets(pd.DataFrame({"label": ["dog"]}))
    with pytest.raises(ValueError, match="target 'height' is not known"):
        choose_targets(both, ["height"])
    buckets = pd.DataFrame({"age": pd.Categorical(["teens"])})
    with pytest.raises(ValueError, match="'age_years' needs ages in years; .* Common Voice"):
        choose_targets(buckets, ["age_years"])


def test_check_experiment_numbers_and_classes():
    labels = pd.DataFrame({"gender": ["male", "female"] * 4, "age": [30.0] * 8})
    groups = np.repeat(["a", "b", "c", "d"], 2)
    with pytest.raises(ValueError, match="n_splits must be a whole number >= 2; got 1"):
        check_experiment(labels, n_splits=1)
    with pytest.raises(ValueError, match="n_C must be a whole number >= 1; got 0"):
        check_experiment(labels, n_C=0)
    with pytest.raises(ValueError, match="4 speakers with a label, fewer than the 5 folds"):
        check_experiment(labels, targets=["gender"], groups=groups)
    with pytest.raises(ValueError, match=r"target 'age' has a single class \(\['adult'\]\)"):
        check_experiment(labels, targets=["age"], n_splits=2, age_scheme="child-adult")


def test_real_common_voice_targets():
    """Check the targets of the real Common Voice slice: its own spelling "fourties"
    counts as forties, and the gender target leaves out unlabelled and 'other' clips."""
    m = read_dataset(require_data("commonvoice-en"))
    targets, scheme = check_experiment(m.labels, groups=m.groups)
    assert targets == ["gender", "age"] and scheme == "common_voice"
    g, _, _, left = make_target(m.labels, "gender", scheme)
    assert left["no label"] == m.labels["gender"].isna().sum() > 0
    assert left["not female or male"] == (m.labels["gender"] == "other").sum() > 0
    assert set(g.dropna()) == {"female", "male"}
    a, _, cats, left = make_target(m.labels, "age", scheme)
    assert "forties" in set(a.dropna()) and cats.index("forties") == 3
    assert left == {"no label": int(m.labels["age"].isna().sum())}
