"""The experiment's decisions about its data: which targets, which age scheme, which rows.

They are checked before any audio is read, so a wrong choice costs a second, not the
minutes of a feature extraction.
"""

from numbers import Integral

import numpy as np
import pandas as pd

from sklaudio.datasets import AGE_SCHEMES, COMMON_VOICE_AGES, bucket_ages
from sklaudio.datasets._schemes import _resolve_scheme

__all__ = ["TARGETS", "check_experiment", "choose_age_scheme", "choose_targets", "make_target"]

#: What the experiment predicts: gender and age groups (classification), age in years
#: (regression).
TARGETS = ("gender", "age", "age_years")

# the voice classes of the gender target; other self-descriptions are left out
GENDERS = ("female", "male")


def _numeric_age(labels):
    return "age" in labels and pd.api.types.is_numeric_dtype(labels["age"])


def _has_age_groups(labels):
    return "age_group" in labels or ("age" in labels and not _numeric_age(labels))


def _why_not(labels, target):
    """Why ``target`` cannot be predicted from ``labels``, or None when it can."""
    columns = list(labels.columns)
    if target == "gender" and "gender" not in labels:
        return f"target 'gender' needs a 'gender' column; the labels have {columns}"
    if target == "age" and not ("age" in labels or "age_group" in labels):
        return (f"target 'age' needs an 'age' column (years or Common Voice buckets) or an "
                f"'age_group' column; the labels have {columns}")
    if target == "age_years" and not _numeric_age(labels):
        what = ("Common Voice buckets, not years" if "age" in labels
                else f"missing (the labels have {columns})")
        return f"target 'age_years' needs ages in years; the 'age' column is {what}"
    return None


def choose_targets(labels, targets=None):
    """The targets to predict: the ones asked for, checked, or every one the labels allow.

    Parameters
    ----------
    labels : DataFrame
        One row per clip.
    targets : sequence of {"gender", "age", "age_years"} or None, default=None
        None chooses ``"gender"`` and ``"age"`` where the labels have them.

    Returns
    -------
    targets : list of str
        The targets to predict, in the order they will be run.

    Raises
    ------
    ValueError
        For an unknown target, or one the labels cannot give (naming the columns).

    See Also
    --------
    choose_age_scheme : How ages become groups.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklaudio.experiment import choose_targets
    >>> choose_targets(pd.DataFrame({"gender": ["male"], "age": [31]}))
    ['gender', 'age']
    """
    if targets is None:
        chosen = [t for t in ("gender", "age") if _why_not(labels, t) is None]
        if not chosen:
            raise ValueError(
                f"the labels have no 'gender' or 'age' column to predict: they have "
                f"{list(labels.columns)}"
            )
        return chosen
    targets = [targets] if isinstance(targets, str) else list(targets)
    if not targets:
        raise ValueError(f"targets is empty; choose from {list(TARGETS)}")
    for t in targets:
        if t not in TARGETS:
            raise ValueError(f"target {t!r} is not known; choose from {list(TARGETS)}")
        reason = _why_not(labels, t)
        if reason is not None:
            raise ValueError(reason)
    return list(dict.fromkeys(targets))


def choose_age_scheme(labels, age_scheme="auto"):
    """The age scheme for the labels: checked, or chosen when ``"auto"``.

    ``"auto"`` gives ``"child-teen-adult"`` when the ages are years and some are under
    13, else ``"common_voice"``. Ages that are already Common Voice buckets take
    ``"common_voice"`` only.

    Parameters
    ----------
    labels : DataFrame
        One row per clip.
    age_scheme : str or dict, default="auto"
        ``"auto"``, a name of :data:`~sklaudio.datasets.AGE_SCHEMES` or a dict with
        ``edges`` and ``labels`` (see :func:`~sklaudio.datasets.bucket_ages`).

    Returns
    -------
    age_scheme : str or dict
        The name of a scheme of :data:`sklaudio.datasets.AGE_SCHEMES`, or a custom one.

    Raises
    ------
    ValueError
        For an unknown scheme, or one that does not cover the ages.

    See Also
    --------
    sklaudio.datasets.bucket_ages : The schemes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklaudio.experiment import choose_age_scheme
    >>> choose_age_scheme(pd.DataFrame({"age": [8, 31]}))
    'child-teen-adult'
    """
    if isinstance(age_scheme, str) and age_scheme != "auto" and age_scheme not in AGE_SCHEMES:
        raise ValueError(
            f"age scheme {age_scheme!r} is not known; choose 'auto' or one of "
            f"{sorted(AGE_SCHEMES)}"
        )
    if not isinstance(age_scheme, str):
        _resolve_scheme(age_scheme)  # raises on a malformed dict
    if _numeric_age(labels):
        age = labels["age"].dropna().to_numpy(float)
        if isinstance(age_scheme, str) and age_scheme == "auto":
            return "child-teen-adult" if len(age) and age.min() < 13 else "common_voice"
        if len(age):
            bucket_ages([age.min(), age.max()], scheme=age_scheme)  # raises when not covered
        return age_scheme
    if isinstance(age_scheme, str) and age_scheme in ("auto", "common_voice"):
        return "common_voice"
    if not _has_age_groups(labels):
        return age_scheme  # no age to bucket: the scheme is not used
    raise ValueError(
        f"the ages are Common Voice buckets, not years, so they cannot be regrouped with "
        f"the age scheme {age_scheme!r}; use 'common_voice' (or 'auto')"
    )


def make_target(labels, target, age_scheme):
    """The target column for one target, with the rows it cannot use set to missing.

    Parameters
    ----------
    labels : DataFrame
        One row per clip.
    target : {"gender", "age", "age_years"}
    age_scheme : str or dict
        As returned by :func:`choose_age_scheme`.

    Returns
    -------
    y : pandas.Series of object or float
        One value per row of ``labels``; NaN where the row has no usable label.
    task : {"classification", "regression"}
        Classification for gender and age groups, regression for years.
    categories : list of str or None
        The age groups in order (for the bucket error), else None.
    left_out : dict
        Why rows were left out: ``{"no label": n, "not female or male": m}``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklaudio.experiment import make_target
    >>> y, task, cats, left_out = make_target(
    ...     pd.DataFrame({"gender": ["male", "other", None]}), "gender", "common_voice")
    >>> y.tolist(), task, left_out
    (['male', nan, nan], 'classification', {'no label': 1, 'not female or male': 1})
    """
    if target == "gender":
        y = labels["gender"].astype(object)
        given = y.notna()
        # "other" is a self-description, not a kind of voice a model can learn from a
        # handful of speakers: the gender target is female / male, the rest left out
        y = y.where(y.isin(GENDERS), np.nan)
        return y, "classification", None, _counts(
            {"no label": ~given, "not female or male": given & y.isna()})
    if target == "age_years":
        y = labels["age"].astype(float)
        return y, "regression", None, _counts({"no label": y.isna()})
    if target != "age":
        raise ValueError(f"target {target!r} is not known; choose from {list(TARGETS)}")
    if _numeric_age(labels) and not (age_scheme == "common_voice" and "age_group" in labels):
        age = labels["age"].astype(float)
        y = pd.Series(np.nan, index=labels.index, dtype=object)
        groups = bucket_ages(age.dropna(), scheme=age_scheme)
        y[age.notna()] = np.asarray(groups, dtype=object)
        cats = list(groups.categories)
    else:
        col = labels["age_group"] if "age_group" in labels else labels["age"]
        cats = list(col.cat.categories) if hasattr(col, "cat") else None
        if cats is None and set(col.dropna()) <= set(COMMON_VOICE_AGES):
            cats = list(COMMON_VOICE_AGES)  # buckets read back from a CSV as text
        y = col.astype(object).where(col.notna(), np.nan)
    return y, "classification", cats, _counts({"no label": y.isna()})


def _counts(masks):
    return {why: int(np.sum(mask)) for why, mask in masks.items() if np.sum(mask)}


def check_experiment(labels, *, targets=None, age_scheme="auto", groups=None, n_splits=5,
                     n_C=10, regressor="svr"):
    """Check every choice of an experiment against its labels, before any audio is read.

    Parameters
    ----------
    labels : DataFrame
        One row per clip.
    targets : sequence of str or None, default=None
        See :func:`choose_targets`.
    age_scheme : str or dict, default="auto"
        See :func:`choose_age_scheme`.
    groups : array-like of shape (n_clips,) or None, default=None
        Speaker of each clip.
    n_splits : int, default=5
        Folds of the outer and inner cross-validation (at least 2).
    n_C : int, default=10
        Values of the regularisation in the grid (at least 1).
    regressor : {"svr", "ridge"}, default="svr"
        Model for ``"age_years"``.

    Returns
    -------
    targets : list of str
        The targets to predict.
    age_scheme : str or dict
        The age scheme to use.

    Raises
    ------
    ValueError
        Naming the choice that cannot work and why.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklaudio.experiment import check_experiment
    >>> labels = pd.DataFrame({"gender": ["male", "female"] * 3, "age": [8, 30] * 3})
    >>> check_experiment(labels, n_splits=2)
    (['gender', 'age'], 'child-teen-adult')
    """
    for name, value, low in (("n_splits", n_splits, 2), ("n_C", n_C, 1)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}; got {value!r}")
    if regressor not in ("svr", "ridge"):
        raise ValueError(f"regressor {regressor!r} is not known; choose 'svr' or 'ridge'")
    if isinstance(age_scheme, str) and age_scheme != "auto" and age_scheme not in AGE_SCHEMES:
        raise ValueError(
            f"age scheme {age_scheme!r} is not known; choose 'auto' or one of "
            f"{sorted(AGE_SCHEMES)}"
        )
    targets = choose_targets(labels, targets)
    uses_ages = "age" in targets or "age_years" in targets
    scheme = choose_age_scheme(labels, age_scheme) if uses_ages else age_scheme
    for target in targets:
        y, task, _, _ = make_target(labels, target, scheme)
        keep = y.notna().to_numpy()
        units = (len(set(np.asarray(groups, dtype=object)[keep])) if groups is not None
                 else int(keep.sum()))
        what = "speakers" if groups is not None else "clips"
        if units < n_splits:
            raise ValueError(
                f"target {target!r} has {units} {what} with a label, fewer than the "
                f"{n_splits} folds (n_splits); lower n_splits or add data"
            )
        if task == "classification" and y[keep].nunique() < 2:
            raise ValueError(
                f"target {target!r} has a single class ({y[keep].unique().tolist()}) "
                "among the labelled clips; there is nothing to learn"
            )
    return targets, scheme
