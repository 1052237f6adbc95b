"""LogFeatures: log1p of the chosen (or of the skewed) columns of a feature table."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.stats import skew
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_array

from sklaudio.utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from sklaudio.utils._docstring import TABULAR_DOCS, Substitution

__all__ = ["LogFeatures"]


@Substitution(**TABULAR_DOCS)
class LogFeatures(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Apply ``log1p`` to chosen columns of a feature table; pass the others through.

    Energies, durations, counts and rates are right-skewed and non-negative; a log
    makes them closer to normal before scaling. Columns are chosen by name, by index,
    all of them, or learned in :term:`fit` (``columns="auto"``): the non-negative
    columns whose skewness (:func:`scipy.stats.skew`) exceeds ``skew_threshold``.

    Parameters
    ----------
    columns : "auto", "all" or array-like of str or int, default="auto"
        Columns to transform. Names need a DataFrame with string column names in
        :term:`fit`; integers are positions. ``"auto"`` picks the skewed
        non-negative columns; ``"all"`` takes every column.

    skew_threshold : float, default=0.75
        With ``columns="auto"``, a column is transformed when its skewness is above
        this value (and its minimum is >= 0, or ``signed=True``).

    signed : bool, default=False
        Use ``sign(x) * log1p(|x|)`` so that negative values are allowed. With
        False, a chosen column holding a negative value raises a ValueError naming
        the column and its minimum. With ``columns="auto"`` the columns are chosen
        non-negative in :term:`fit`, and a negative value met later (new data may
        stray below the range seen in fit) gets the signed form, which equals
        ``log1p`` for ``x >= 0``, instead of an error.

    Attributes
    ----------
    columns_ : ndarray of int
        Positions of the transformed columns, sorted.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    sklearn.preprocessing.FunctionTransformer : Apply any function to all columns.
    sklearn.preprocessing.PowerTransformer : Learn a Yeo-Johnson or Box-Cox power.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklaudio.tabular import LogFeatures
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"energy": rng.lognormal(0, 1, 200),
    ...                   "pitch": rng.normal(150, 20, 200)})
    >>> log = LogFeatures().fit(X)
    >>> log.feature_names_in_[log.columns_].tolist()
    ['energy']
    >>> np.allclose(log.inverse_transform(log.transform(X)), X)
    True
    >>> log = LogFeatures(columns=["pitch"]).set_output(transform="pandas")
    >>> log.fit_transform(X).columns.tolist()
    ['energy', 'pitch']
    """

    _parameter_constraints: dict = {
        "columns": [StrOptions({"auto", "all"}), "array-like"],
        "skew_threshold": [Interval(Real, None, None, closed="neither")],
        "signed": ["boolean"],
    }

    def __init__(self, columns="auto", *, skew_threshold=0.75, signed=False):
        self.columns = columns
        self.skew_threshold = skew_threshold
        self.signed = signed

    def _name(self, j):
        names = getattr(self, "feature_names_in_", None)
        return f"column {names[j]!r} (index {j})" if names is not None else f"column {j}"

    def _resolve_columns(self, X):
        n = X.shape[1]
        if isinstance(self.columns, str):
            if self.columns == "all":
                return np.arange(n)
            # "auto": skewed, and non-negative unless signed
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                # constant columns: scipy warns of precision loss and returns nan
                warnings.simplefilter("ignore", RuntimeWarning)
                s = skew(X, axis=0) if X.shape[0] > 2 else np.full(n, np.nan)
            ok = np.nan_to_num(s, nan=-np.inf) > self.skew_threshold
            if not self.signed:
                ok &= X.min(axis=0) >= 0
            return np.flatnonzero(ok)
        cols = list(np.asarray(self.columns, dtype=object).ravel())
        out = []
        names = getattr(self, "feature_names_in_", None)
        for c in cols:
            if isinstance(c, str):
                if names is None:
                    raise ValueError(
                        f"LogFeatures(columns=...) names column {c!r}, but X has no column "
                        "names. Fit on a DataFrame, or give column positions (integers)."
                    )
                hits = np.flatnonzero(names == c)
                if not hits.size:
                    raise ValueError(
                        f"LogFeatures(columns=...) names column {c!r}, which is not in X. "
                        f"Its columns are {list(names)[:10]}{'...' if n > 10 else ''}."
                    )
                out.append(int(hits[0]))
            elif isinstance(c, Integral) and not isinstance(c, bool):
                if not -n <= c < n:
                    raise ValueError(
                        f"LogFeatures(columns=...) has position {c}, but X has {n} columns."
                    )
                out.append(int(c) % n)
            else:
                raise ValueError(
                    f"LogFeatures(columns=...) must hold column names or positions; got "
                    f"{c!r} ({type(c).__name__})."
                )
        return np.unique(np.asarray(out, dtype=int))

    def _signed(self):
        # auto-chosen columns were non-negative in fit; later data may stray below 0
        return self.signed or (isinstance(self.columns, str) and self.columns == "auto")

    def _check_non_negative(self, X, where):
        if self._signed() or not self.columns_.size:
            return
        mins = X[:, self.columns_].min(axis=0)
        if (mins < 0).any():
            k = int(np.argmax(mins < 0))
            j = self.columns_[k]
            raise ValueError(
                f"LogFeatures: {self._name(j)} has negative values (min {mins[k]:g}) in "
                f"{where}, and log1p needs x >= 0. Leave it out of columns, or set "
                "signed=True to use sign(x) * log1p(|x|)."
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Choose the columns to transform.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature table; a DataFrame allows choosing columns by name.

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self.columns_ = self._resolve_columns(X)
        self._check_non_negative(X, "the data given to fit")
        return self

    def transform(self, X):
        """Apply ``log1p`` (or the signed log) to the chosen columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature table with the columns seen in :term:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            A copy with the chosen columns transformed, the others unchanged.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], copy=True)
        self._check_non_negative(X, "the data given to transform")
        return self._map_columns(X, np.log1p)

    def inverse_transform(self, X):
        """Undo the transform with ``expm1`` (or its signed form) on the chosen columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Transformed feature table.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The table in its original units.
        """
        check_is_fitted(self)
        # like sklearn's scalers: the transformed table need not carry the input names
        X = check_array(X, dtype=[np.float64, np.float32], copy=True)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but LogFeatures is expecting "
                f"{self.n_features_in_} features as input."
            )
        return self._map_columns(X, np.expm1)

    def _map_columns(self, X, func):
        """``func`` on the chosen columns of ``X`` in place (on ``|x|``, sign kept, when signed)."""
        c = self.columns_
        if self._signed():
            X[:, c] = np.sign(X[:, c]) * func(np.abs(X[:, c]))
        else:
            X[:, c] = func(X[:, c])
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
