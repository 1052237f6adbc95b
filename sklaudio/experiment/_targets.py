"""Age and gender targets: bucketing years, and the error of ordered buckets."""

import numpy as np
import pandas as pd

from sklaudio.datasets._voices import COMMON_VOICE_AGES, age_to_bucket

__all__ = ["AGE_SCHEMES", "bucket_ages", "mean_absolute_bucket_error"]

#: Named schemes: upper age (inclusive) of each bucket, and the bucket names.
AGE_SCHEMES = {
    "child-teen-adult": ((12, 19, np.inf), ("child", "teen", "adult")),
    "child-adult": ((12, np.inf), ("child", "adult")),
    "decades": (
        (9, 19, 29, 39, 49, 59, 69, 79, np.inf),
        ("0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"),
    ),
}


def bucket_ages(age, scheme="child-teen-adult"):
    """Turn ages in years into ordered age groups.

    Parameters
    ----------
    age : array-like of float
        Ages in years.
    scheme : {"child-teen-adult", "child-adult", "decades", "common_voice"} or dict, \
            default="child-teen-adult"
        ``"child-teen-adult"``: child <= 12, teen 13-19, adult >= 20.
        ``"decades"``: 0-9, 10-19, ..., 80+. ``"common_voice"``: teens, twenties,
        ... nineties (ages 13-99). A dict ``{"edges": [...], "labels": [...]}`` gives
        the inclusive upper age of each bucket (the last may be ``np.inf``).

    Returns
    -------
    groups : pandas.Categorical
        Ordered categories, one per age.

    Examples
    --------
    >>> from sklaudio.experiment import bucket_ages
    >>> list(bucket_ages([6, 12, 13, 19, 20, 43]))
    ['child', 'child', 'teen', 'teen', 'adult', 'adult']
    >>> list(bucket_ages([25, 61], scheme="common_voice"))
    ['twenties', 'sixties']
    """
    age = np.asarray(age, dtype=float)
    if np.any(~np.isfinite(age)) or np.any(age < 0):
        bad = int(np.flatnonzero(~np.isfinite(age) | (age < 0))[0])
        raise ValueError(
            f"age at position {bad} is {float(age[bad])}; ages must be finite years >= 0. Drop "
            "or fill rows with missing ages first."
        )
    if isinstance(scheme, str) and scheme == "common_voice":
        return age_to_bucket(age)
    if isinstance(scheme, str):
        if scheme not in AGE_SCHEMES:
            raise ValueError(
                f"scheme={scheme!r} is not known; use one of "
                f"{sorted(AGE_SCHEMES) + ['common_voice']} or a dict with edges and labels."
            )
        edges, labels = AGE_SCHEMES[scheme]
    else:
        edges, labels = tuple(scheme["edges"]), tuple(scheme["labels"])
        if len(edges) != len(labels) or list(edges) != sorted(edges):
            raise ValueError("scheme needs increasing 'edges' and one label per edge.")
    idx = np.searchsorted(np.asarray(edges, dtype=float), age, side="left")
    if np.any(idx >= len(labels)):
        bad = age[idx >= len(labels)][0]
        raise ValueError(f"age {bad} is above the last edge {edges[-1]} of the scheme.")
    return pd.Categorical(np.asarray(labels, dtype=object)[idx], categories=labels,
                          ordered=True)


def mean_absolute_bucket_error(y_true, y_pred, *, categories=None):
    """Mean distance, in buckets, between true and predicted ordered age groups.

    Parameters
    ----------
    y_true, y_pred : array-like of str
        Age groups.
    categories : sequence of str, default=None
        The buckets in order. Defaults to ``y_true``'s categories when it is an ordered
        Categorical, else Common Voice's buckets when all labels are among them.

    Returns
    -------
    error : float
        0 for a perfect prediction; 1 when every prediction is off by one bucket.

    Examples
    --------
    >>> from sklaudio.experiment import mean_absolute_bucket_error
    >>> mean_absolute_bucket_error(["teens", "twenties", "sixties"],
    ...                            ["teens", "thirties", "forties"])
    1.0
    """
    if categories is None:
        cat = getattr(y_true, "cat", y_true)
        if isinstance(cat, pd.Categorical) or hasattr(cat, "categories"):
            categories = list(cat.categories)
        else:
            categories = list(COMMON_VOICE_AGES)
    pos = {c: i for i, c in enumerate(categories)}
    try:
        t = np.array([pos[v] for v in np.asarray(y_true, dtype=object)])
        p = np.array([pos[v] for v in np.asarray(y_pred, dtype=object)])
    except KeyError as exc:
        raise ValueError(
            f"label {exc.args[0]!r} is not among the ordered buckets {categories}; pass "
            "categories=... in order."
        ) from None
    return float(np.mean(np.abs(t - p)))
