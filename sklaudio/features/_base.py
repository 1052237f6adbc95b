"""Shared machinery of the clip-level feature extractors (clips in, one row per clip out).

:class:`ClipFeaturesMixin` does what every extractor repeats: validate the clips
(form (a) matrix or form (b) list of clips), store ``sr_`` in ``fit`` and refuse clips
of another rate in ``transform``, run the per-block work over clips with ``n_jobs``
and a progress line (``verbose``), keep the input dtype for float32 matrices, and give
``get_feature_names_out`` (which switches ``set_output(transform="pandas")`` on).

A subclass implements two methods::

    def _feature_names(self):            # list of str, uses self.sr_ and params
    def _extract_block(self, Y):         # Y: float ndarray (n, n_samples) -> (n, n_features)

and may override ``_check_params(self)`` (cross-parameter checks run in ``fit``).
``_extract_block`` is called on row blocks of a matrix and on each ragged clip as a
``(1, n_samples)`` array, so one batched implementation serves both forms.

Every ``transform`` and ``fit_transform`` of a subclass, its own or inherited, is
wrapped so that it raises one :class:`~sklaudio.exceptions.AudioQualityWarning`
naming the clips that carry no usable speech (see :mod:`sklaudio.features._quality`);
a class sets ``_sklaudio_quality_warning = False`` to opt out.
"""

import threading
from functools import wraps

import numpy as np
from sklearn.base import TransformerMixin

from sklaudio.utils._audio import map_clips, resolve_sr, transform_sr, validate_clips
from sklaudio.utils._compat import _fit_context, check_is_fitted

__all__ = ["ClipFeaturesMixin", "check_stats", "clip_blocks", "stat_names", "summarise"]

# rows per batched call on a matrix: big enough to amortise Python overhead, small
# enough that (rows, n_freq, n_frames) complex STFTs stay a few hundred MB at most
_BLOCK_ROWS = 32


def clip_blocks(clips, is_matrix):
    """Row blocks of a matrix of clips, or each ragged clip as a (1, n_samples) block."""
    if is_matrix:
        return [clips[i : i + _BLOCK_ROWS] for i in range(0, len(clips), _BLOCK_ROWS)]
    return [c[np.newaxis, :] for c in clips]


def _run_block(Y, estimator):
    return estimator._extract_block(Y)


_STATE = threading.local()
_WRAPPED = set()


def with_quality_warning(method):
    """Wrap an extractor's ``transform`` or ``fit_transform`` to warn once about bad clips.

    The warning comes after the method succeeded (bad input raises its own error
    first). Nested calls, such as a ``fit_transform`` that calls ``transform``, warn
    only at the outermost.
    """

    @wraps(method)
    def wrapped(self, X, *args, **kwargs):
        depth = getattr(_STATE, "depth", 0)
        _STATE.depth = depth + 1
        try:
            out = method(self, X, *args, **kwargs)
        finally:
            _STATE.depth = depth
        if depth == 0 and getattr(self, "_sklaudio_quality_warning", True):
            from sklaudio.features._quality import warn_on_bad_clips  # it imports this module

            warn_on_bad_clips(self, X, stacklevel=2)
        return out

    _WRAPPED.add(wrapped)
    return wrapped


class ClipFeaturesMixin(TransformerMixin):
    """Mixin for feature extractors whose input is audio clips and output one row per clip.

    Put it left of :class:`~sklearn.base.BaseEstimator`. The subclass must have
    ``sr``, ``n_jobs`` and ``verbose`` parameters and implement ``_feature_names`` and
    ``_extract_block`` (see the module docstring).
    """

    def __init_subclass__(cls, **kwargs):
        # sklearn's set_output wrapping first, so the warning's wrapper is outermost and
        # points at the user's line
        super().__init_subclass__(**kwargs)
        for name in ("transform", "fit_transform"):
            method = getattr(cls, name)  # own or inherited: wrapped once per class
            if method not in _WRAPPED:
                setattr(cls, name, with_quality_warning(method))

    def _check_params(self):
        """Cross-parameter checks run in ``fit`` after ``sr_`` is known (hook)."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the clips and the parameters and record the sampling rate.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D ndarray
            Audio clips: a float matrix of equal-length clips, or a list of clips of
            any length (a :class:`~sklaudio.utils.ClipArray` carries its ``sr``).

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : object
            The fitted extractor.
        """
        validate_clips(self, X, reset=True)
        self.sr_ = resolve_sr(self.sr, X, caller=type(self).__name__)
        self._check_params()
        self._n_features_out = len(self._feature_names())
        return self

    def transform(self, X):
        """Compute the features of each clip.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D ndarray
            Audio clips at the rate seen in ``fit``. Clips may have any length.

        Returns
        -------
        X_new : ndarray of shape (n_clips, n_features_out)
            One row per clip, in input order. float32 for a float32 matrix, else
            float64.
        """
        check_is_fitted(self)
        clips, is_matrix = validate_clips(self, X, reset=False)
        self._check_sr(X)
        blocks = clip_blocks(clips, is_matrix)
        dtype = clips.dtype if is_matrix else np.float64
        rows = map_clips(
            _run_block, blocks, n_jobs=self.n_jobs, verbose=self.verbose,
            desc=type(self).__name__, estimator=self,
        )
        out = np.concatenate(rows, axis=0).astype(dtype, copy=False)
        if not np.isfinite(out).all():  # never silently: this is a bug, not bad input
            bad = int(np.argwhere(~np.isfinite(out))[0, 0])
            raise FloatingPointError(
                f"{type(self).__name__} produced a non-finite feature for clip {bad}; "
                "please report this with the clip."
            )
        return out

    def _check_sr(self, X):
        return transform_sr(self, X)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored: the output names do not depend on the input samples' names.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One readable name per output column.
        """
        check_is_fitted(self)
        return np.asarray(self._feature_names(), dtype=object)


def stat_names(stats, percentiles):
    """Suffixes of the summary statistics, e.g. ``["mean", "std", "p05", "p95"]``."""
    return list(stats) + [_pname(q) for q in percentiles]


def _pname(q):
    q = float(q)
    return f"p{int(q):02d}" if q.is_integer() else "p" + f"{q:g}".replace(".", "_")


def summarise(A, stats, percentiles, *, axis=-1):
    """Statistics of ``A`` along ``axis``, stacked on a new last axis in ``stat_names`` order."""
    funcs = {
        "mean": np.mean,
        "std": np.std,
        "min": np.min,
        "max": np.max,
        "median": np.median,
    }
    out = [funcs[s](A, axis=axis) for s in stats]
    if len(percentiles):
        P = np.percentile(A, list(percentiles), axis=axis)
        out.extend(P)
    return np.stack(out, axis=-1)


def check_stats(stats, percentiles, caller):
    """Validate the ``stats`` and ``percentiles`` parameters; raise a ValueError naming them."""
    allowed = ("mean", "std", "min", "max", "median")
    if isinstance(stats, str):
        stats = (stats,)
    bad = [s for s in stats if s not in allowed]
    if bad:
        raise ValueError(
            f"{caller}(stats=...) got {bad!r}; choose among {allowed}, e.g. "
            "stats=('mean', 'std')."
        )
    if len(set(stats)) != len(stats):
        raise ValueError(f"{caller}(stats={tuple(stats)!r}) lists a statistic twice.")
    q = np.asarray(percentiles, dtype=float).ravel()
    if q.size and (not np.isfinite(q).all() or q.min() < 0 or q.max() > 100):
        raise ValueError(
            f"{caller}(percentiles={percentiles!r}) must hold numbers in [0, 100], e.g. (5, 95)."
        )
    if len(stats) + q.size == 0:
        raise ValueError(f"{caller} has no statistic: give stats=('mean',) or percentiles.")
    return tuple(stats), tuple(q.tolist())
