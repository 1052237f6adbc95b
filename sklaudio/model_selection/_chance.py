"""Honest scores: the chance level of a metric, and a permutation test against it.

A score means little without the score of a model that learned nothing: with six age
groups of very unequal size, 0.3 accuracy can be worse than always answering the
largest group. :func:`chance_level` gives that reference for the labels at hand, and
:func:`permutation_test` says whether held-out predictions beat it, shuffling the labels
between whole speakers so that one speaker's clips still share one label (shuffling
single clips would make a speaker's clips look independent and the test far too keen).
"""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from sklaudio.datasets._schemes import COMMON_VOICE_AGES

__all__ = ["chance_level", "permutation_test"]

# name -> (greater is better, kind of labels)
_METRICS = {
    "balanced_accuracy": (True, "classes"),
    "accuracy": (True, "classes"),
    "mean_absolute_error": (False, "numbers"),
    "mean_absolute_bucket_error": (False, "buckets"),
}


def _check_metric(metric):
    if not isinstance(metric, str) or metric not in _METRICS:
        raise ValueError(f"metric={metric!r} is not known; use one of {sorted(_METRICS)}.")
    return _METRICS[metric]


def _check_labels(y, what):
    if isinstance(y, (pd.Series, pd.Categorical, pd.Index)):
        missing = np.asarray(pd.isna(y))
        values = np.asarray(y, dtype=object)
    else:
        values = np.asarray(y, dtype=object)
        if values.ndim != 1:
            raise ValueError(f"{what} must be one label per row (1-D); got shape {values.shape}.")
        missing = np.asarray(pd.isna(values), dtype=bool)
    if values.ndim != 1:
        raise ValueError(f"{what} must be one label per row (1-D); got shape {values.shape}.")
    if len(values) == 0:
        raise ValueError(f"{what} is empty.")
    if missing.any():
        raise ValueError(
            f"{what} is missing at row {int(np.flatnonzero(missing)[0])} "
            f"({int(missing.sum())} row(s) in all); drop unlabelled rows first."
        )
    return values


def _numbers(values, what):
    try:
        out = values.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers for this metric; got e.g. {values[0]!r}.") \
            from None
    if not np.isfinite(out).all():
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ValueError(f"{what} is not finite at row {bad}.")
    return out


def _bucket_positions(y, values, categories, what):
    if categories is None:
        cat = getattr(y, "cat", y)
        if isinstance(cat, pd.Categorical) or hasattr(cat, "categories"):
            categories = list(cat.categories)
        elif set(values) <= set(COMMON_VOICE_AGES):
            categories = list(COMMON_VOICE_AGES)
        else:
            raise ValueError(
                f"{what} holds labels that are not Common Voice's age buckets (e.g. "
                f"{values[0]!r}); pass categories=[...] with the buckets in order."
            )
    pos = {c: i for i, c in enumerate(categories)}
    try:
        return np.array([pos[v] for v in values], dtype=float), list(categories)
    except KeyError as exc:
        raise ValueError(
            f"{what} holds {exc.args[0]!r}, which is not among the ordered buckets "
            f"{list(categories)}; pass categories=... in order."
        ) from None


def chance_level(y, metric="balanced_accuracy", *, categories=None):
    """Score of the best model that knows only the labels' balance, not the input.

    The reference every held-out score should be read against:

    - ``"balanced_accuracy"``: ``1 / k`` for the ``k`` classes in ``y``. Any answer
      drawn without looking at the input, whatever its class frequencies, has this
      expected balanced accuracy (each class's recall is the share of that answer).
    - ``"accuracy"``: the share of the largest class (always answering it).
    - ``"mean_absolute_error"``: the mean distance of ``y`` to its median (always
      answering the median, which minimises it).
    - ``"mean_absolute_bucket_error"``: the same in buckets, always answering the
      median bucket.

    It is computed from all of ``y``: a model that learns the balance from training
    folds only does no better on average, so the level is, if anything, a little easy
    on chance.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The true labels (class names, numbers, or ordered buckets).
    metric : {"balanced_accuracy", "accuracy", "mean_absolute_error", \
            "mean_absolute_bucket_error"}, default="balanced_accuracy"
        The metric the level is for.
    categories : sequence or None, default=None
        The buckets in order, for ``"mean_absolute_bucket_error"``. None takes the
        categories of an ordered categorical ``y``, or Common Voice's age buckets.

    Returns
    -------
    level : float
        Higher is better for the accuracies, lower for the errors.

    See Also
    --------
    permutation_test : Whether held-out predictions beat chance.

    Examples
    --------
    >>> from sklaudio.model_selection import chance_level
    >>> y = ["twenties"] * 6 + ["thirties"] * 3 + ["sixties"]
    >>> chance_level(y, "balanced_accuracy"), chance_level(y, "accuracy")
    (0.333..., 0.6)
    >>> chance_level(y, "mean_absolute_bucket_error")
    0.7
    >>> chance_level([20, 25, 31, 60], "mean_absolute_error")
    11.5
    """
    _, kind = _check_metric(metric)
    values = _check_labels(y, "y")
    if kind == "numbers":
        v = _numbers(values, "y")
        return float(np.mean(np.abs(v - np.median(v))))
    if kind == "buckets":
        v, _ = _bucket_positions(y, values, categories, "y")
        return float(np.mean(np.abs(v - np.floor(np.median(v)))))
    _, counts = np.unique(pd.factorize(values)[0], return_counts=True)
    if metric == "balanced_accuracy":
        return 1.0 / len(counts)
    return float(counts.max() / counts.sum())


def _group_labels(codes_or_values, group_codes, n_groups, groups):
    """One label per group; raises naming a group whose clips disagree."""
    first = np.full(n_groups, -1, dtype=np.int64)
    # the first row of each group
    order = np.arange(len(group_codes))[::-1]
    first[group_codes[order]] = order
    per_group = codes_or_values[first]
    bad = np.flatnonzero(codes_or_values != per_group[group_codes])
    if len(bad):
        i = int(bad[0])
        raise ValueError(
            f"the true labels differ within group {groups[i]!r} (rows {int(first[group_codes[i]])} "
            f"and {i}); the permutation test moves one label per group between groups. "
            "Give each speaker one label, or pass groups=None to shuffle single rows."
        )
    return per_group


def _class_scores(T, p, n_classes, metric):
    """Balanced accuracy or accuracy of predictions p against each row of T."""
    n_rows, n = T.shape
    if metric == "accuracy":
        return (T == p).mean(axis=1)
    # confusion counts per row: (row, true, predicted)
    flat = (np.arange(n_rows)[:, np.newaxis] * n_classes + T) * n_classes + p
    cm = np.bincount(flat.ravel(), minlength=n_rows * n_classes * n_classes)
    cm = cm.reshape(n_rows, n_classes, n_classes)
    support = cm.sum(axis=2)
    present = support > 0  # classes absent from the truth do not count (as scikit-learn)
    recall = np.divide(np.diagonal(cm, axis1=1, axis2=2), support,
                       out=np.zeros(support.shape), where=present)
    return recall.sum(axis=1) / present.sum(axis=1)


def permutation_test(y_true, y_pred, *, groups=None, metric="balanced_accuracy",
                     categories=None, n_permutations=1000, random_state=None):
    """Test whether held-out predictions beat chance, shuffling labels between speakers.

    Under the null hypothesis the model learned nothing, so its predictions are
    unrelated to the true labels. The test scores the predictions against
    ``n_permutations`` shufflings of the true labels and counts how often a shuffling
    scores at least as well: ``p = (1 + count) / (1 + n_permutations)``. With
    ``groups`` (a speaker id per row), whole speakers' labels are shuffled among
    speakers: each speaker's clips keep one label, as in the data, so the many
    correlated clips of one speaker are not taken for independent evidence. The
    predictions are never refitted: pass held-out (cross-validated) predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (class names, numbers, or ordered buckets). With ``groups``, each
        group must have one label.
    y_pred : array-like of shape (n_samples,)
        Held-out predictions, in the same form.
    groups : array-like of shape (n_samples,) or None, default=None
        Speaker (or other) id of each row. None shuffles single rows.
    metric : {"balanced_accuracy", "accuracy", "mean_absolute_error", \
            "mean_absolute_bucket_error"}, default="balanced_accuracy"
        The score tested.
    categories : sequence or None, default=None
        The buckets in order, for ``"mean_absolute_bucket_error"`` (see
        :func:`chance_level`).
    n_permutations : int, default=1000
        Shufflings. The smallest p-value is ``1 / (1 + n_permutations)``: 100 or more
        are needed for p < 0.01 to be possible.
    random_state : int, RandomState instance or None, default=None
        Draws the shufflings; an int gives the same p-value on every run.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``score`` (the predictions' score), ``chance_level`` (see
        :func:`chance_level`), ``p_value``, ``null_scores`` (ndarray of the shuffled
        scores), ``null_mean``, ``n_permutations``, ``metric`` and
        ``greater_is_better``.

    See Also
    --------
    chance_level : The score of a model that knows only the label balance.
    sklearn.model_selection.permutation_test_score : Refits the model for each
        shuffling (costlier; tests the same hypothesis).

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.model_selection import permutation_test
    >>> speakers = np.repeat(np.arange(40), 3)             # 40 speakers, 3 clips each
    >>> y = np.where(speakers % 2, "female", "male")
    >>> res = permutation_test(y, y, groups=speakers, n_permutations=200, random_state=0)
    >>> res.score, res.chance_level, round(res.p_value, 4)
    (1.0, 0.5, 0.005)
    """
    greater, kind = _check_metric(metric)
    if not isinstance(n_permutations, Integral) or isinstance(n_permutations, bool) \
            or n_permutations < 1:
        raise ValueError(f"n_permutations={n_permutations!r}; expected an integer >= 1 "
                         "(100 or more for p < 0.01 to be possible).")
    t_values = _check_labels(y_true, "y_true")
    p_values = _check_labels(y_pred, "y_pred")
    if len(t_values) != len(p_values):
        raise ValueError(f"y_true has {len(t_values)} rows but y_pred has {len(p_values)}.")
    if groups is None:
        group_codes = np.arange(len(t_values))
        group_names = group_codes
    else:
        group_names = _check_labels(groups, "groups")
        if len(group_names) != len(t_values):
            raise ValueError(f"groups has {len(group_names)} rows but y_true has "
                             f"{len(t_values)}.")
        group_codes = pd.factorize(group_names)[0]
    n_groups = int(group_codes.max()) + 1

    if kind == "classes":
        codes, uniques = pd.factorize(np.concatenate([t_values, p_values]))
        t, p = codes[: len(t_values)], codes[len(t_values) :]
    elif kind == "numbers":
        t, p = _numbers(t_values, "y_true"), _numbers(p_values, "y_pred")
    else:
        t, cats = _bucket_positions(y_true, t_values, categories, "y_true")
        p, _ = _bucket_positions(y_pred, p_values, cats, "y_pred")
    per_group = _group_labels(t, group_codes, n_groups, group_names)

    rng = check_random_state(random_state)
    null = np.empty(n_permutations)
    chunk = max(1, 2_000_000 // len(t))  # rows of shuffled labels scored at once
    for start in range(0, n_permutations, chunk):
        n = min(chunk, n_permutations - start)
        perms = np.argsort(rng.random_sample((n, n_groups)), axis=1)
        T = per_group[perms][:, group_codes]
        if kind == "classes":
            null[start : start + n] = _class_scores(T, p, len(uniques), metric)
        else:
            null[start : start + n] = np.abs(T - p).mean(axis=1)
    if kind == "classes":
        score = float(_class_scores(t[np.newaxis], p, len(uniques), metric)[0])
    else:
        score = float(np.abs(t - p).mean())
    # ties count against the model; the tolerance absorbs summation-order rounding
    tol = 1e-12 * max(1.0, abs(score))
    as_good = null >= score - tol if greater else null <= score + tol
    level = chance_level(y_true, metric, categories=cats if kind == "buckets" else None)
    return Bunch(score=score, chance_level=level,
                 p_value=float((1 + as_good.sum()) / (1 + n_permutations)),
                 null_scores=null, null_mean=float(null.mean()),
                 n_permutations=int(n_permutations), metric=metric,
                 greater_is_better=greater)
