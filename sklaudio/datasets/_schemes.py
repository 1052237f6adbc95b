"""Label schemes of the corpora: one table per age scheme, bucketing years, bucket error."""

from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "AGE_SCHEMES",
    "COMMON_VOICE_AGES",
    "AgeScheme",
    "age_to_bucket",
    "bucket_ages",
    "mean_absolute_bucket_error",
]


class AgeScheme(NamedTuple):
    """How ages in years become ordered age groups.

    A named tuple; its fields are the parameters below.

    Parameters
    ----------
    edges : tuple of float
        Inclusive upper age of each group, increasing (the last may be ``np.inf``).
    labels : tuple of str
        One name per group, youngest first.
    min_age : float, default=0.0
        Youngest age the scheme covers; younger ages have no group.

    See Also
    --------
    bucket_ages : Ages to the groups of a scheme.

    Examples
    --------
    >>> from sklaudio.datasets import AGE_SCHEMES
    >>> AGE_SCHEMES["child-teen-adult"].labels
    ('child', 'teen', 'adult')
    """

    edges: tuple
    labels: tuple
    min_age: float = 0.0


#: The named age schemes, each defined once here: ``name -> AgeScheme``.
AGE_SCHEMES = {
    "child-teen-adult": AgeScheme((12, 19, np.inf), ("child", "teen", "adult")),
    "child-adult": AgeScheme((12, np.inf), ("child", "adult")),
    "decades": AgeScheme(
        (9, 19, 29, 39, 49, 59, 69, 79, np.inf),
        ("0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"),
    ),
    # Common Voice's profile buckets (ages 13-99), spelled as sklaudio names them; the
    # readers accept every spelling Common Voice's own tables use ("fourties")
    "common_voice": AgeScheme(
        (19, 29, 39, 49, 59, 69, 79, 89, 99),
        ("teens", "twenties", "thirties", "forties", "fifties", "sixties", "seventies",
         "eighties", "nineties"),
        min_age=13,
    ),
}

#: Common Voice's age buckets, youngest first (the labels of ``AGE_SCHEMES["common_voice"]``).
COMMON_VOICE_AGES = AGE_SCHEMES["common_voice"].labels


def _resolve_scheme(scheme):
    if isinstance(scheme, str):
        if scheme not in AGE_SCHEMES:
            raise ValueError(
                f"scheme={scheme!r} is not known; use one of {sorted(AGE_SCHEMES)} or a dict "
                "with edges and labels."
            )
        return AGE_SCHEMES[scheme]
    if isinstance(scheme, AgeScheme):
        return scheme
    try:
        edges, labels = tuple(scheme["edges"]), tuple(scheme["labels"])
    except (TypeError, KeyError):
        raise ValueError(
            f"scheme={scheme!r} is neither a scheme name ({sorted(AGE_SCHEMES)}) nor a dict "
            "with 'edges' and 'labels'."
        ) from None
    if len(edges) != len(labels) or list(edges) != sorted(edges):
        raise ValueError("scheme needs increasing 'edges' and one label per edge.")
    return AgeScheme(edges, labels, float(scheme.get("min_age", 0.0)))


def bucket_ages(age, scheme="child-teen-adult"):
    """Turn ages in years into ordered age groups.

    Parameters
    ----------
    age : array-like of float
        Ages in years.
    scheme : {"child-teen-adult", "child-adult", "decades", "common_voice"} or dict, \
            default="child-teen-adult"
        A name of :data:`AGE_SCHEMES`: ``"child-teen-adult"``: child <= 12, teen 13-19,
        adult >= 20. ``"decades"``: 0-9, 10-19, ..., 80+. ``"common_voice"``: teens,
        twenties, ... nineties (ages 13-99). A dict ``{"edges": [...], "labels":
        [...]}`` gives the inclusive upper age of each bucket (the last may be
        ``np.inf``).

    Returns
    -------
    groups : pandas.Categorical
        Ordered categories, one per age.

    Raises
    ------
    ValueError
        For a missing or negative age, or one outside the scheme (naming it).

    See Also
    --------
    mean_absolute_bucket_error : The error of predicted ordered groups.

    Examples
    --------
    >>> from sklaudio.datasets import bucket_ages
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
    edges, labels, min_age = _resolve_scheme(scheme)
    if np.any(age < min_age):
        bad = age[age < min_age][0]
        raise ValueError(
            f"age {bad} is below the youngest age ({min_age:g}) of the scheme {labels[0]!r}.."
            f"{labels[-1]!r}; choose a scheme that covers it (for instance 'child-teen-adult')."
        )
    idx = np.searchsorted(np.asarray(edges, dtype=float), age, side="left")
    if np.any(idx >= len(labels)):
        bad = age[idx >= len(labels)][0]
        raise ValueError(f"age {bad} is above the last edge {edges[-1]} of the scheme.")
    return pd.Categorical(np.asarray(labels, dtype=object)[idx], categories=labels,
                          ordered=True)


def age_to_bucket(age):
    """Map ages in years to Common Voice buckets ("teens" for 13-19, "twenties", ...).

    The same as ``bucket_ages(age, scheme="common_voice")``, with an error that names
    Common Voice for ages outside 13-99.

    Parameters
    ----------
    age : array-like of float
        Ages in years, 13 to 99.

    Returns
    -------
    groups : pandas.Categorical
        Ordered over :data:`COMMON_VOICE_AGES`.

    See Also
    --------
    bucket_ages : Other schemes (children, decades).

    Examples
    --------
    >>> from sklaudio.datasets import age_to_bucket
    >>> list(age_to_bucket([15, 20, 47, 90]))
    ['teens', 'twenties', 'forties', 'nineties']
    """
    age = np.asarray(age, dtype=float)
    outside = (age < 13) | (age >= 100) | ~np.isfinite(age)
    if np.any(outside):
        raise ValueError(
            f"age {age[outside][0]} has no Common Voice bucket (13-99 years). Use "
            "sklaudio.datasets.bucket_ages with a scheme that covers it."
        )
    return bucket_ages(np.floor(age), scheme="common_voice")


def mean_absolute_bucket_error(y_true, y_pred, *, categories=None):
    """Mean distance, in buckets, between true and predicted ordered age groups.

    Parameters
    ----------
    y_true, y_pred : array-like of str
        Age groups.
    categories : sequence of str, default=None
        The buckets in order. Defaults to ``y_true``'s categories when it is an ordered
        Categorical, else Common Voice's buckets.

    Returns
    -------
    error : float
        0 for a perfect prediction; 1 when every prediction is off by one bucket.

    See Also
    --------
    bucket_ages : Ordered groups from years.

    Examples
    --------
    >>> from sklaudio.datasets import mean_absolute_bucket_error
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
