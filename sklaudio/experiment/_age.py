"""Age groups as what they are: ordered buckets, predicted by regression and rounded back."""

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import Ridge
from sklearn.utils.multiclass import check_classification_targets

from sklaudio.datasets._schemes import AGE_SCHEMES
from sklaudio.exceptions import AudioWarning
from sklaudio.experiment._docs import MODEL_DOCS
from sklaudio.utils._compat import (
    HasMethods,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from sklaudio.utils._docstring import Substitution

__all__ = ["OrdinalBucketRegressor"]


def _known_order(labels):
    """The ordered labels of an sklaudio age scheme that holds all of ``labels``."""
    for scheme in AGE_SCHEMES.values():
        if set(labels) <= set(scheme.labels):
            return list(scheme.labels)
    return None


@Substitution(n_features_in_=MODEL_DOCS["n_features_in_"],
              feature_names_in_=MODEL_DOCS["feature_names_in_"])
class OrdinalBucketRegressor(ClassifierMixin, BaseEstimator):
    """Predict ordered buckets (age groups) by regression on their positions, rounded back.

    A classifier treats "teens" and "sixties" as just two names; the buckets are
    ordered, and mistaking a teen for someone in their twenties is a smaller error than
    for someone in their sixties. This model regresses each bucket's midpoint (by
    default its position 0, 1, 2, ...) from the features and answers the bucket whose
    midpoint is nearest to the regressed value. It is scored like a classifier
    (balanced accuracy, and :func:`~sklaudio.datasets.mean_absolute_bucket_error`) and
    answers only buckets between the youngest and the oldest seen in :term:`fit`.

    Parameters
    ----------
    regressor : estimator or None, default=None
        Regressor fitted on the midpoints, cloned; None is ``Ridge(alpha=1.0)``. With
        ``class_weight``, it must take ``sample_weight`` in ``fit``.
    categories : array-like of str or None, default=None
        The buckets, youngest first. None takes an ordered categorical ``y``'s
        categories, or the order of the sklaudio age scheme that holds all labels
        (``sklaudio.datasets.AGE_SCHEMES``: Common Voice's buckets, child / teen /
        adult, decades), or numbers in their order; other labels are taken in sorted
        order, with a warning.
    midpoints : array-like of float or None, default=None
        Value regressed for each category (same length and order). None uses the
        positions 0, 1, 2, ...: equal steps between buckets.
    class_weight : {"balanced"}, dict or None, default=None
        "balanced" weights each row by ``n_samples / (n_buckets * n_in_its_bucket)``
        so that a crowded bucket does not pull every answer towards it; a dict gives
        ``{bucket: weight}`` (buckets left out weigh 1).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The buckets answered, youngest first: from the youngest to the oldest seen in
        :term:`fit`.
    midpoints_ : ndarray of shape (n_classes,)
        The value regressed for each of ``classes_``.
    regressor_ : estimator
        The fitted regressor.
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    sklaudio.datasets.mean_absolute_bucket_error : Error of ordered buckets.
    sklaudio.model_selection.chance_level : What a model without input scores.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.experiment import OrdinalBucketRegressor
    >>> X = np.array([[15.0], [18.0], [24.0], [27.0], [33.0], [36.0]])
    >>> y = ["teens", "teens", "twenties", "twenties", "thirties", "thirties"]
    >>> model = OrdinalBucketRegressor(class_weight="balanced").fit(X, y)
    >>> model.classes_.tolist()
    ['teens', 'twenties', 'thirties']
    >>> model.predict([[16.0], [35.0]]).tolist()
    ['teens', 'thirties']
    """

    _parameter_constraints: dict = {
        "regressor": [HasMethods(["fit", "predict"]), None],
        "categories": ["array-like", None],
        "midpoints": ["array-like", None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(self, *, regressor=None, categories=None, midpoints=None, class_weight=None):
        self.regressor = regressor
        self.categories = categories
        self.midpoints = midpoints
        self.class_weight = class_weight

    def _order(self, y_raw, labels):
        if self.categories is not None:
            return list(self.categories)
        cat = getattr(y_raw, "cat", y_raw)
        if isinstance(cat, pd.Categorical) or (hasattr(cat, "categories")
                                               and getattr(cat, "ordered", False)):
            return list(cat.categories)
        known = _known_order(labels)
        if known is not None:
            return known
        if all(isinstance(v, (int, float, np.integer, np.floating)) for v in labels):
            return sorted(labels)
        order = sorted(labels, key=str)
        warnings.warn(
            f"the labels {order[:6]} have no known order; OrdinalBucketRegressor takes "
            "them in sorted order. Pass categories=[...] youngest first.",
            AudioWarning,
            stacklevel=3,
        )
        return order

    @_fit_context(prefer_skip_nested_validation=True)
    @Substitution(X=MODEL_DOCS["X"])
    def fit(self, X, y, sample_weight=None):
        """Regress the buckets' midpoints.

        Parameters
        ----------
        {X}
        y : array-like of shape (n_samples,)
            Bucket of each row (an ordered categorical keeps its order).
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Row weights, passed to the regressor (times the class weights).

        Returns
        -------
        self : object
            The fitted model.
        """
        y_raw = y
        X, y = validate_data(self, X, y, dtype="numeric", y_numeric=False)
        check_classification_targets(y)  # buckets, not numbers to regress: refuse those
        labels = list(pd.unique(np.asarray(y, dtype=object)))
        order = self._order(y_raw, labels)
        pos = {c: i for i, c in enumerate(order)}
        missing = [v for v in labels if v not in pos]
        if missing:
            raise ValueError(f"y holds {missing[0]!r}, which is not among categories={order}; "
                             "list every bucket, youngest first.")
        if self.midpoints is None:
            midpoints = np.arange(len(order), dtype=float)
        else:
            midpoints = np.asarray(self.midpoints, dtype=float)
            if midpoints.shape != (len(order),) or np.any(np.diff(midpoints) <= 0):
                raise ValueError(
                    f"midpoints must be {len(order)} increasing numbers, one per category "
                    f"{order}; got {self.midpoints!r}."
                )
        idx = np.array([pos[v] for v in y])
        lo, hi = idx.min(), idx.max()
        self.classes_ = np.asarray(order[lo : hi + 1], dtype=np.asarray(y).dtype)
        self.midpoints_ = midpoints[lo : hi + 1]
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if self.class_weight is not None:
            if isinstance(self.class_weight, dict):
                per_row = np.array([self.class_weight.get(v, 1.0) for v in y], dtype=float)
            else:
                per_row = len(idx) / (len(labels) * np.bincount(idx)[idx])
            weight = per_row if weight is None else weight * per_row
        self.regressor_ = clone(Ridge() if self.regressor is None else self.regressor)
        target = midpoints[idx]
        if weight is None:
            self.regressor_.fit(X, target)
        else:
            self.regressor_.fit(X, target, sample_weight=weight)
        return self

    @Substitution(X=MODEL_DOCS["X"])
    def predict_value(self, X):
        """Regressed value of each row, on the midpoints' scale, before rounding.

        Parameters
        ----------
        {X}

        Returns
        -------
        values : ndarray of shape (n_samples,)
            Average them over a speaker's clips, then :meth:`to_bucket`, for one
            answer per speaker.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype="numeric", reset=False)
        return np.asarray(self.regressor_.predict(X), dtype=float).ravel()

    def to_bucket(self, values):
        """The bucket whose midpoint is nearest to each value.

        Parameters
        ----------
        values : array-like of shape (n_samples,)
            Values on the midpoints' scale, e.g. from :meth:`predict_value`.

        Returns
        -------
        buckets : ndarray of shape (n_samples,)
            Labels among ``classes_`` (ties go to the younger bucket).
        """
        check_is_fitted(self)
        values = np.asarray(values, dtype=float)
        if not np.isfinite(values).all():
            raise ValueError("values must be finite; the regressor returned NaN or inf.")
        bounds = (self.midpoints_[1:] + self.midpoints_[:-1]) / 2
        return self.classes_[np.searchsorted(bounds, values, side="left")]

    @Substitution(X=MODEL_DOCS["X"])
    def predict(self, X):
        """Predict the bucket of each row.

        Parameters
        ----------
        {X}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels among ``classes_``.
        """
        return self.to_bucket(self.predict_value(X))
