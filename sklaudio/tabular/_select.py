"""SelectFeatures: keep the columns of a feature table whose names match a pattern."""

import re

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin

from sklaudio.utils._compat import _fit_context, check_is_fitted, validate_data
from sklaudio.utils._docstring import TABULAR_DOCS, Substitution

__all__ = ["SelectFeatures"]


@Substitution(**TABULAR_DOCS)
class SelectFeatures(SelectorMixin, BaseEstimator):
    """Keep the columns whose names match a regular expression.

    A FeatureUnion of extractors names its columns ``<extractor>__<feature>``
    (``f0__f0_median``, ``mel__mfcc_03_mean``), so a pattern picks whole families of
    features. As a step of a grid-searched pipeline it lets the search decide which
    families a model uses, without extracting anything again (a few voice columns can
    predict better than all of them; the README shows an example).

    Parameters
    ----------
    pattern : str or None, default=None
        Regular expression searched (:func:`re.search`) in each column name. None
        keeps every column. Names come from a DataFrame passed to :term:`fit` (for
        instance a FeatureUnion with ``set_output(transform="pandas")``).

    Attributes
    ----------
    support_ : ndarray of bool of shape (`n_features_in_`,)
        Which columns are kept.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    sklearn.compose.make_column_selector : The same choice inside a ColumnTransformer.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklaudio.tabular import SelectFeatures
    >>> X = pd.DataFrame({"f0__f0_median": [120.0, 210.0], "mel__mel_000_mean": [-3.0, -4.0],
    ...                   "formants__f1_median": [500.0, 650.0]})
    >>> sel = SelectFeatures(pattern=r"^(f0|formants)__").fit(X)
    >>> sel.get_feature_names_out().tolist()
    ['f0__f0_median', 'formants__f1_median']
    >>> sel.transform(X).shape
    (2, 2)
    """

    _parameter_constraints: dict = {"pattern": [str, None]}

    def __init__(self, pattern=None):
        self.pattern = pattern

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find the columns whose names match ``pattern``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Feature table; a DataFrame with string column names when ``pattern`` is set.
        y : None
            Ignored.

        Returns
        -------
        self : SelectFeatures
            The fitted selector.
        """
        validate_data(self, X, accept_sparse=True, ensure_all_finite=False)
        if self.pattern is None:
            self.support_ = np.ones(self.n_features_in_, dtype=bool)
            return self
        try:
            regex = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(
                f"SelectFeatures(pattern={self.pattern!r}) is not a valid regular "
                f"expression: {exc}."
            ) from None
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            raise ValueError(
                f"SelectFeatures(pattern={self.pattern!r}) matches column names, but X has "
                f"none (it arrived as {type(X).__name__}). Fit on a DataFrame, e.g. a "
                "FeatureUnion with set_output(transform='pandas'), or set pattern=None."
            )
        self.support_ = np.array([regex.search(str(n)) is not None for n in names])
        if not self.support_.any():
            raise ValueError(
                f"SelectFeatures(pattern={self.pattern!r}) matches none of the "
                f"{len(names)} columns, which start {list(names[:5])}. Change the pattern."
            )
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.requires_fit = True
        return tags
