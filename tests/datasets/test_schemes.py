"""Tests of age bucketing and the ordered-bucket error."""

import numpy as np
import pytest

from sklaudio.datasets import bucket_ages, mean_absolute_bucket_error


@pytest.mark.parametrize("scheme, ages, expected", [
    ("child-teen-adult", [0, 12, 12.5, 13, 19, 19.5, 20, 90],
     ["child", "child", "teen", "teen", "teen", "adult", "adult", "adult"]),
    ("child-adult", [6, 12, 13, 43], ["child", "child", "adult", "adult"]),
    ("decades", [5, 9, 10, 45, 85], ["0-9", "0-9", "10-19", "40-49", "80+"]),
    ("common_voice", [13, 19, 20, 99], ["teens", "teens", "twenties", "nineties"]),
    ({"edges": [17, np.inf], "labels": ["minor", "adult"]}, [17, 18], ["minor", "adult"]),
])
def test_bucket_ages_edges(scheme, ages, expected):
    """Check each scheme's bucket edges, which are inclusive upper ages."""
    out = bucket_ages(ages, scheme=scheme)
    assert list(out) == expected
    assert out.ordered


@pytest.mark.parametrize("ages, scheme, msg", [
    ([20, np.nan], "decades", "age at position 1 is nan"),
    ([-1], "decades", "age at position 0 is -1.0"),
    ([20], "quinquennia", "scheme='quinquennia' is not known"),
    ([30], {"edges": [17, 20], "labels": ["a", "b"]}, "age 30.0 is above the last edge"),
])
def test_bucket_ages_errors(ages, scheme, msg):
    with pytest.raises(ValueError, match=msg):
        bucket_ages(ages, scheme=scheme)


def test_mean_absolute_bucket_error_counts_bucket_distance():
    """Check the error against a hand count: distances 0, 1 and 1 over three clips."""
    y = bucket_ages([8, 15, 30], scheme="child-teen-adult")
    pred = np.array(["child", "child", "teen"], dtype=object)
    assert mean_absolute_bucket_error(y, pred) == pytest.approx(2 / 3)
    assert mean_absolute_bucket_error(["teens"], ["fifties"]) == 4.0
    with pytest.raises(ValueError, match="label 'elder' is not among the ordered buckets"):
        mean_absolute_bucket_error(["teens"], ["elder"])
