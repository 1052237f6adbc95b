"""Yeo-Johnson power transform whose per-feature lambdas are fitted all at once.

scikit-learn's ``PowerTransformer(method="yeo-johnson")`` calls
``scipy.stats.yeojohnson_normmax`` once per column: a scalar bounded Brent search
(``scipy.optimize.fminbound``), a few ms per column. Here the same search runs for all
columns together: every column keeps its own Brent state in arrays, and each iteration
evaluates the Yeo-Johnson log-likelihood of every still-searching column with one set
of numpy operations. Objective, bounds and stopping rule are scipy's, so the lambdas
agree with scikit-learn's to the search tolerance.
"""

import warnings
from math import sqrt

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array
from sklearn.utils.validation import FLOAT_DTYPES

from sklaudio.utils._compat import _fit_context, check_is_fitted, validate_data
from sklaudio.utils._docstring import TABULAR_DOCS, Substitution

# scipy.stats.yeojohnson_normmax's tolerance for fminbound ("match optimize.brent's")
_XATOL = 1.48e-8
_MAXFUN = 500  # fminbound's default
_GOLDEN = 0.5 * (3.0 - sqrt(5.0))
_SQRT_EPS = sqrt(2.2e-16)  # fminbound's constant


def _yeo_johnson(X, lambdas):
    """Yeo-Johnson transform of each column of X with its lambda (scipy's formulas).

    Elementwise the same operations as ``scipy.stats.yeojohnson(col, lmbda)``, in the
    result dtype of X and ``lambdas``, so the output is what the per-column call gives.
    """
    eps = np.finfo(np.result_type(X.dtype, lambdas.dtype)).eps
    pos = X >= 0  # NaN goes to the negative branch and stays NaN, as in scipy
    logx = np.log1p(np.abs(X))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = np.where(pos, lambdas, 2 - lambdas)
        out = np.expm1(a * logx) / a
    # lambda == 0 (x >= 0) and lambda == 2 (x < 0) are the log limits
    out = np.where(pos & (np.abs(lambdas) < eps), logx, out)
    out = np.where(~pos & ~(np.abs(lambdas - 2) > eps), logx, out)
    return np.where(pos, out, -out)


def _yeo_johnson_inverse(X, lambdas):
    """Inverse Yeo-Johnson of each column (sklearn's ``_yeo_johnson_inverse_transform``)."""
    eps = np.spacing(1.0)
    pos = X >= 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lam_pos = np.where(np.abs(lambdas) < eps, 1.0, lambdas)
        lam_neg = np.where(np.abs(lambdas - 2) > eps, 2 - lambdas, 1.0)
        x_pos = np.where(np.abs(lambdas) < eps, np.expm1(X),
                         np.power(X * lam_pos + 1, 1 / lam_pos) - 1)
        x_neg = np.where(np.abs(lambdas - 2) > eps,
                         1 - np.power(-lam_neg * X + 1, 1 / lam_neg), -np.expm1(-X))
    return np.where(pos, x_pos, x_neg).astype(X.dtype, copy=False)


class _NegLogLikelihood:
    """Minus scipy's ``yeojohnson_llf`` for many columns at once, NaNs left out.

    Holds ``log1p(|x|)`` of every column (rows = features, contiguous, so the variance
    sums run along memory like scipy's 1-D ``np.var``), the signs, the counts and the
    data term ``sum(sign(x) * log1p(|x|))``, computed once.
    """

    def __init__(self, Xt):
        nan = np.isnan(Xt)
        # log1p in the data's dtype, as scipy computes it before mixing with lambda
        logx = np.log1p(np.abs(Xt)).astype(np.float64)
        logx[nan] = 0.0
        self.logx = logx
        self.neg = Xt < 0
        self.valid = None if not nan.any() else ~nan
        self.n = (~nan).sum(axis=1).astype(np.float64)
        self.data_term = np.where(self.neg, -logx, logx).sum(axis=1)
        self.eps = np.finfo(np.float64).eps
        self.tiny = np.finfo(np.float64).smallest_normal

    def __call__(self, lambdas, idx):
        logx, neg = self.logx[idx], self.neg[idx]
        lam = lambdas[:, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a = np.where(neg, 2 - lam, lam)
            y = np.multiply(a, logx)
            np.expm1(y, out=y)  # the bulk of the time (not SIMD in numpy)
            y /= a
            # log limits at lambda == 0 (x >= 0) and lambda == 2 (x < 0), when present
            at_0, at_2 = np.abs(lam) < self.eps, ~(np.abs(lam - 2) > self.eps)
            if at_0.any() or at_2.any():
                y = np.where((~neg & at_0) | (neg & at_2), logx, y)
            np.negative(y, out=y, where=neg)
            n = self.n[idx]
            if self.valid is None:
                var = y.var(axis=1)
            else:  # NaN cells hold y = 0: mask them out of both passes
                valid = self.valid[idx]
                mean = (y * valid).sum(axis=1) / n
                dev = (y - mean[:, None]) * valid
                var = (dev * dev).sum(axis=1) / n
            # scipy: log(var) only for normal var, else -inf; infinite llf is rejected
            log_var = np.where(var >= self.tiny, np.log(np.where(var > 0, var, 1.0)),
                               -np.inf)
            llf = -n / 2 * log_var + (lambdas - 1) * self.data_term[idx]
        llf[np.isinf(llf)] = -np.inf
        return -llf


def _bounds(Xt, dtype):
    """Per-column search interval of ``scipy.stats.yeojohnson_normmax``."""
    finfo = np.finfo(dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"All-NaN (slice|axis) encountered")
        log1p_max_x = np.log1p(20 * np.nanmax(np.abs(Xt), axis=1)).astype(np.float64)
    log_eps = np.log(finfo.eps)
    log_tiny = (np.log(finfo.tiny) - log_eps) / 2
    log_max = (np.log(finfo.max) + log_eps) / 2
    lb, ub = log_tiny / log1p_max_x, log_max / log1p_max_x
    neg = Xt < 0
    all_neg = (neg | np.isnan(Xt)).all(axis=1)
    some_neg = neg.any(axis=1) & ~all_neg
    lb, ub = (np.where(all_neg, 2 - ub, np.where(some_neg, np.maximum(2 - ub, lb), lb)),
              np.where(all_neg, 2 - lb, np.where(some_neg, np.minimum(2 - lb, ub), ub)))
    return lb, ub


def _fminbound_columns(func, lb, ub):
    """``scipy.optimize.fminbound(func, lb, ub, xtol=1.48e-8)`` run for many columns.

    The loop is scipy's ``_minimize_scalar_bounded`` with every scalar turned into an
    array over columns; branches become masks, and only columns that have not met the
    stopping rule are evaluated (``func(lambdas, column_indices)``).
    """
    a, b = lb.copy(), ub.copy()
    xf = a + _GOLDEN * (b - a)
    nfc, fulc = xf.copy(), xf.copy()
    rat, e = np.zeros_like(a), np.zeros_like(a)
    fx = func(xf, np.arange(len(a)))
    ffulc, fnfc = fx.copy(), fx.copy()
    xm = 0.5 * (a + b)
    tol1 = _SQRT_EPS * np.abs(xf) + _XATOL / 3.0
    tol2 = 2.0 * tol1
    num = 1
    while num < _MAXFUN:
        idx = np.flatnonzero(np.abs(xf - xm) > (tol2 - 0.5 * (b - a)))
        if idx.size == 0:
            break
        a_, b_, xf_, fx_ = a[idx], b[idx], xf[idx], fx[idx]
        nfc_, fnfc_, fulc_, ffulc_ = nfc[idx], fnfc[idx], fulc[idx], ffulc[idx]
        e_, rat_, xm_, t1, t2 = e[idx], rat[idx], xm[idx], tol1[idx], tol2[idx]

        # parabolic step where the last-but-one step was large enough and it is acceptable
        try_para = np.abs(e_) > t1
        r = (xf_ - nfc_) * (fx_ - ffulc_)
        q = (xf_ - fulc_) * (fx_ - fnfc_)
        p = (xf_ - fulc_) * q - (xf_ - nfc_) * r
        q = 2.0 * (q - r)
        p = np.where(q > 0.0, -p, p)
        q = np.abs(q)
        with np.errstate(divide="ignore"):
            para = (try_para & (np.abs(p) < np.abs(0.5 * q * e_))
                    & (p > q * (a_ - xf_)) & (p < q * (b_ - xf_)))
            rat_para = np.where(para, p / np.where(para, q, 1.0), 0.0)
        x_para = xf_ + rat_para
        near_edge = ((x_para - a_) < t2) | ((b_ - x_para) < t2)
        si = np.sign(xm_ - xf_) + ((xm_ - xf_) == 0)
        rat_para = np.where(near_edge, t1 * si, rat_para)
        # golden-section step elsewhere
        e_gold = np.where(xf_ >= xm_, a_ - xf_, b_ - xf_)
        new_e = np.where(para, rat_, e_gold)
        new_rat = np.where(para, rat_para, _GOLDEN * e_gold)

        si = np.sign(new_rat) + (new_rat == 0)
        x = xf_ + si * np.maximum(np.abs(new_rat), t1)
        fu = func(x, idx)
        num += 1

        better = fu <= fx_
        right = x >= xf_
        # bracket: the better point becomes xf; the worse one closes the interval
        a[idx] = np.where(better & right, xf_, np.where(~better & (x < xf_), x, a_))
        b[idx] = np.where(better & ~right, xf_, np.where(~better & (x >= xf_), x, b_))
        c1 = ~better & ((fu <= fnfc_) | (nfc_ == xf_))
        c2 = ~better & ~c1 & ((fu <= ffulc_) | (fulc_ == xf_) | (fulc_ == nfc_))
        fulc[idx] = np.where(better | c1, nfc_, np.where(c2, x, fulc_))
        ffulc[idx] = np.where(better | c1, fnfc_, np.where(c2, fu, ffulc_))
        nfc[idx] = np.where(better, xf_, np.where(c1, x, nfc_))
        fnfc[idx] = np.where(better, fx_, np.where(c1, fu, fnfc_))
        xf[idx] = np.where(better, x, xf_)
        fx[idx] = np.where(better, fu, fx_)
        e[idx], rat[idx] = new_e, new_rat
        xm[idx] = 0.5 * (a[idx] + b[idx])
        tol1[idx] = _SQRT_EPS * np.abs(xf[idx]) + _XATOL / 3.0
        tol2[idx] = 2.0 * tol1[idx]
    return xf


def yeojohnson_normmax_columns(X):
    """Maximum-likelihood Yeo-Johnson lambda of every column of X, NaNs ignored.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Float data; each column must have at least one non-NaN value and must not be
        all zero or constant (handle those before, as the transformer does).

    Returns
    -------
    lambdas : ndarray of shape (n_features,), dtype float64
        What ``scipy.stats.yeojohnson_normmax(col[~np.isnan(col)])`` returns per column,
        to the search tolerance.
    """
    Xt = np.ascontiguousarray(X.T)
    lb, ub = _bounds(Xt, X.dtype)
    # infinite objective values (rejected lambdas) make inf - inf in the parabola fit,
    # which then fails its acceptance test: silence it as yeojohnson_normmax does
    with np.errstate(invalid="ignore"):
        return _fminbound_columns(_NegLogLikelihood(Xt), lb, ub)


def _constant_columns(X):
    """sklearn's ``_is_constant_feature`` test per column, over the non-NaN values."""
    eps = np.finfo(np.float64).eps
    mean = np.mean(X, axis=0, dtype=np.float64)
    var = np.var(X, axis=0, dtype=np.float64)
    n = np.full(X.shape[1], X.shape[0], dtype=np.float64)
    nan_cols = np.flatnonzero(np.isnan(mean))
    if nan_cols.size:
        sub = X[:, nan_cols]
        n_valid = (~np.isnan(sub)).sum(axis=0)
        empty = nan_cols[n_valid == 0]
        if empty.size:
            raise ValueError(
                f"Columns {empty.tolist()} of X are all NaN: YeoJohnsonTransformer cannot "
                "estimate their lambda. Drop these columns or impute them first."
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            mean[nan_cols] = np.nanmean(sub, axis=0, dtype=np.float64)
            var[nan_cols] = np.nanvar(sub, axis=0, dtype=np.float64)
        n[nan_cols] = n_valid
    return var <= n * eps * var + (n * mean * eps) ** 2


@Substitution(**TABULAR_DOCS)
class YeoJohnsonTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Yeo-Johnson power transform with all features' lambdas fitted at once.

    A drop-in, faster equivalent of
    ``sklearn.preprocessing.PowerTransformer(method="yeo-johnson")``: each feature's
    lambda maximises the Yeo-Johnson log-likelihood (scipy's objective, search bounds
    and tolerance), but the bounded Brent search runs for all features together with
    numpy instead of one scipy call per feature. NaNs are ignored in fit and kept in
    transform. Constant features get ``lambda = 1`` (the identity).

    Parameters
    ----------
    standardize : bool, default=True
        Apply zero-mean, unit-variance scaling to the transformed output.

    copy : bool, default=True
        If False, transform and inverse_transform may work in place on float input.

    Attributes
    ----------
    lambdas_ : ndarray of shape (n_features,)
        Fitted lambda of each feature, in the input's float dtype.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    sklearn.preprocessing.PowerTransformer : The per-feature reference (also Box-Cox).
    scipy.stats.yeojohnson_normmax : The per-column optimisation replicated here.

    Notes
    -----
    A feature whose non-NaN values are all equal is treated as constant
    (``lambda = 1``). scikit-learn tests constancy with NaNs included, so a constant
    feature with some NaNs gets a meaningless huge lambda there.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.tabular import YeoJohnsonTransformer
    >>> X = np.array([[1.0, -2.0], [2.0, 0.5], [4.0, 1.0], [8.0, 3.0], [16.0, 4.0]])
    >>> yj = YeoJohnsonTransformer().fit(X)
    >>> np.round(yj.lambdas_, 3)
    array([-0.188,  1.114])
    >>> np.round(yj.transform(X)[:, 0], 2)
    array([-1.37, -0.75, -0.03,  0.71,  1.43])
    """

    _parameter_constraints: dict = {
        "standardize": ["boolean"],
        "copy": ["boolean"],
    }

    def __init__(self, *, standardize=True, copy=True):
        self.standardize = standardize
        self.copy = copy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Estimate each feature's lambda by maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data; NaNs are ignored.

        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        X = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan",
                          reset=True)
        lambdas = np.ones(X.shape[1], dtype=np.float64)
        todo = np.flatnonzero(~_constant_columns(X))
        if todo.size:
            lambdas[todo] = yeojohnson_normmax_columns(X[:, todo])
        self.lambdas_ = lambdas.astype(X.dtype)
        if self.standardize:
            self._scaler = StandardScaler(copy=False).set_output(transform="default")
            self._scaler.fit(_yeo_johnson(X, self.lambdas_))
        return self

    def transform(self, X):
        """Apply each feature's fitted power transform (then standardise).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data to transform; NaNs stay NaN.

        Returns
        -------
        X_trans : ndarray of shape (n_samples, n_features)
            The transformed data.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan",
                          copy=False, reset=False)
        out = _yeo_johnson(X, self.lambdas_)
        if not self.copy and X.flags.writeable:
            X[...] = out
            out = X
        if self.standardize:
            out = self._scaler.transform(out)
        return out

    def inverse_transform(self, X):
        """Undo the transform: unscale, then apply each feature's inverse power transform.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Transformed data.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The data in the original space.
        """
        check_is_fitted(self)
        X = check_array(X, copy=self.copy, dtype=FLOAT_DTYPES, force_writeable=True,
                        ensure_all_finite="allow-nan")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but YeoJohnsonTransformer is expecting "
                f"{self.n_features_in_} features as input."
            )
        if self.standardize:
            X = self._scaler.inverse_transform(X)
        out = _yeo_johnson_inverse(X, self.lambdas_)
        bad = np.flatnonzero((np.isnan(out) & ~np.isnan(X)).any(axis=0))
        if bad.size:
            warnings.warn(
                f"Some values in columns {bad.tolist()} of the inverse-transformed data "
                "are NaN: they lie outside the range the power transform can reach, e.g. "
                "from extremely skewed data. Inspect the input or preprocess it before "
                "the transformation.",
                UserWarning,
            )
        if not self.copy:
            X[...] = out
            out = X
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
