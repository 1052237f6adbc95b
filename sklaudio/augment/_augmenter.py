"""AudioAugmenter: an imbalanced-learn over-sampler that makes new audio."""

import warnings
from collections import Counter
from numbers import Integral, Real

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy, check_target_type
from scipy.sparse import issparse
from sklearn.preprocessing import label_binarize
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length

from sklaudio.augment._operations import (
    APPLIED,
    TOO_SHORT,
    AddNoise,
    BaseOperation,
    Gain,
    TimeShift,
)
from sklaudio.exceptions import AudioWarning, ParameterError
from sklaudio.utils import map_clips, resolve_sr, validate_clips, wrap_clips
from sklaudio.utils._compat import Interval, _fit_context, check_is_fitted

__all__ = ["AudioAugmenter"]


def _default_operations():
    return [
        ("noise", AddNoise(snr_db=(10.0, 30.0), p=0.5)),
        ("shift", TimeShift(shift=(0.0, 0.5), p=0.5)),
        ("gain", Gain(gain_db=(-6.0, 6.0), p=0.5)),
    ]


def _augment_one(item, *, operations, sr):
    """One augmented copy: the operations in order, each with its own probability."""
    clip, seed = item
    rng = np.random.RandomState(seed)
    statuses = []
    out = clip
    for op in operations:
        out, status = op._maybe_apply(out, sr, rng)
        statuses.append(status)
    if out is clip:  # no operation drawn: still a copy, never an alias of the input
        out = clip.copy()
    return out.astype(clip.dtype, copy=False), statuses


class AudioAugmenter(BaseOverSampler):
    """Augment audio while fitting: new noisy, shifted, pitched, stretched copies.

    An imbalanced-learn sampler: inside :class:`sklaudio.pipeline.Pipeline` (which is
    imbalanced-learn's) its ``fit_resample`` runs when the pipeline is fitted, on the
    training folds only, and it is skipped by ``predict``, ``transform`` and
    ``score``. So augmented copies never reach prediction or the test folds of a
    cross-validation.

    The output holds the original clips first, unchanged and in their order, then:

    1. ``n_copies`` augmented copies of every clip (clip by clip);
    2. if ``sampling_strategy`` asks for it, augmented copies for class
       balancing, as imbalanced-learn's
       :class:`~imblearn.over_sampling.RandomOverSampler` does with duplicates:
       ``sampling_strategy`` is evaluated on the class counts *after* step 1, and
       the clips of each class it targets are used in turn (every clip once, in
       full rounds, then a random subset) until the class reaches its count.

    Each copy applies the operations in order, each with its own probability
    ``p`` and a value drawn from its ranges; a copy that drew none of them
    equals its source.

    Parameters
    ----------
    operations : list of operations or of (name, operation) pairs, default=None
        The augmentations: :class:`AddNoise`, :class:`TimeShift`,
        :class:`PitchShift`, :class:`TimeStretch`, :class:`Gain`,
        :class:`TrimSilence` (or your :class:`BaseOperation` subclass). Names
        address their parameters: ``set_params(noise__snr_db=(5, 20))``, or
        ``augmenter__noise__snr_db`` in a ``GridSearchCV`` grid. Unnamed
        operations are named after their class in lower case (``addnoise``;
        repeats get ``-1``, ``-2``). None means ``[("noise", AddNoise(p=0.5)),
        ("shift", TimeShift(p=0.5)), ("gain", Gain(p=0.5))]``.

    n_copies : int, default=1
        Augmented copies of every clip (0 for balancing only).

    sampling_strategy : float, str, dict, callable or None, default=None
        Class balancing, off by default: augmenting does not change the class
        proportions unless asked (a classifier with ``class_weight="balanced"``
        already corrects them, and balancing twice over-corrects). Otherwise
        imbalanced-learn's over-sampling meaning, on the counts after
        ``n_copies``: ``"auto"`` (= ``"not majority"``) tops every class up to
        the majority count, ``"minority"``, ``"not minority"``, ``"all"``; a
        float is the minority/majority ratio (binary only); a dict gives the
        final number of clips of each listed class; a callable maps ``y`` to
        such a dict.

    sr : float or None, default=None
        Sampling rate of the clips. None follows the rate the clips carry (a
        :class:`~sklaudio.utils.ClipArray`), else librosa's 22050; a mismatch
        raises.

    random_state : int, RandomState instance or None, default=None
        Seed of every random choice; a fixed value gives identical output, with
        any ``n_jobs``.

    n_jobs : int or None, default=None
        Copies made in parallel (joblib; -1 for all cores).

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of balancing copies made for each class.

    sample_indices_ : ndarray of shape (n_resampled,)
        For each output clip, the index of the input clip it comes from.

    sr_ : int or float
        Sampling rate used.

    n_skipped_ : dict
        ``{operation name: number of copies}`` where the operation was drawn but
        skipped because the clip was too short for it (pitch shift and time
        stretch need 64 samples); a warning reports them too.

    n_applied_ : dict
        ``{operation name: number of copies}`` where the operation was applied.

    n_features_in_ : int
        Number of samples per clip, when fitted on a matrix of equal-length clips.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame input with string column names.

    See Also
    --------
    sklaudio.pipeline.Pipeline : Runs samplers at fit time only.
    imblearn.over_sampling.RandomOverSampler : Balancing with duplicates.
    add_noise : The noise operation as a function (likewise time_shift, ...).

    Notes
    -----
    Forms of input and output: a matrix ``(n_clips, n_samples)`` stays a matrix
    (a :class:`~sklaudio.utils.ClipArray` carrying ``sr``) unless an operation
    changes lengths (:class:`TimeStretch` without ``keep_length``,
    :class:`TrimSilence`), which gives a ragged ClipArray; clips of different
    lengths give a ragged ClipArray. A DataFrame comes back as a DataFrame and a
    list as a list (imbalanced-learn's rule; a list carries no sampling rate).
    The dtype of the clips is kept.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.augment import AudioAugmenter, AddNoise, PitchShift
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((6, 4096)).astype(np.float32)
    >>> y = np.array([0, 0, 0, 0, 1, 1])
    >>> aug = AudioAugmenter(
    ...     operations=[("noise", AddNoise(snr_db=(10, 20))), ("pitch", PitchShift(p=0.5))],
    ...     n_copies=1, sampling_strategy="auto", sr=16000, random_state=0)
    >>> X_res, y_res = aug.fit_resample(X, y)
    >>> X_res.shape, X_res.dtype, X_res.sr, np.bincount(y_res)
    ((16, 4096), dtype('float32'), 16000, array([8, 8]))
    >>> aug.sample_indices_
    array([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 4, 5, 4, 5])
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "sampling_strategy": [
            *BaseOverSampler._parameter_constraints["sampling_strategy"],
            None,
        ],
        "operations": [list, None],
        "n_copies": [Interval(Integral, 0, None, closed="left")],
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        operations=None,
        n_copies=1,
        sampling_strategy=None,
        sr=None,
        random_state=None,
        n_jobs=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.operations = operations
        self.n_copies = n_copies
        self.sr = sr
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ operations
    @staticmethod
    def _auto_names(ops):
        names = [type(op).__name__.lower() for op in ops]
        counts = Counter(names)
        seen = Counter()
        out = []
        for name in names:
            if counts[name] > 1:
                seen[name] += 1
                name = f"{name}-{seen[name]}"
            out.append(name)
        return out

    def _named_operations(self, strict=True):
        """``[(name, operation)]``; ``strict`` raises on a malformed list, else returns []."""
        items = _default_operations() if self.operations is None else self.operations
        if not isinstance(items, (list, tuple)):
            if strict:
                raise ParameterError(
                    f"AudioAugmenter: operations must be a list; got {type(items).__name__}."
                )
            return []
        named, unnamed_pos = [], []
        for i, item in enumerate(items):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                name, op = item
            else:
                name, op = None, item
                unnamed_pos.append(i)
            if not isinstance(op, BaseOperation):
                if not strict:
                    return []
                raise TypeError(
                    f"AudioAugmenter: operations[{i}] is {op!r}, not an operation. Use "
                    "AddNoise, TimeShift, PitchShift, TimeStretch, Gain, TrimSilence (from "
                    "sklaudio.augment) or a BaseOperation subclass, optionally as "
                    "(name, operation)."
                )
            named.append([name, op])
        auto = self._auto_names([named[i][1] for i in unnamed_pos])
        for i, name in zip(unnamed_pos, auto):
            named[i][0] = name
        named = [tuple(x) for x in named]
        if strict:
            names = [n for n, _ in named]
            own = set(self._get_param_names())
            bad = [n for n in names if "__" in n or n in own or not n]
            if bad or len(set(names)) != len(names):
                raise ParameterError(
                    f"AudioAugmenter: operation names must be unique, non-empty, without "
                    f"'__' and not a parameter name ({sorted(own)}); got {names}."
                )
        return named

    def get_params(self, deep=True):
        """Get parameters, including those of the named operations when ``deep``.

        As :class:`sklearn.pipeline.Pipeline` does for its steps: ``name`` is an
        operation and ``name__param`` one of its parameters.

        Parameters
        ----------
        deep : bool, default=True
            Also return ``name`` and ``name__param`` for every operation.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        out = super().get_params(deep=False)
        if deep:
            for name, op in self._named_operations(strict=False):
                out[name] = op
                out.update({f"{name}__{k}": v for k, v in op.get_params(deep=True).items()})
        return out

    def set_params(self, **params):
        """Set parameters; ``name`` replaces an operation, ``name__param`` sets one of its.

        Parameters
        ----------
        **params : dict
            Parameters of the augmenter and of its operations.

        Returns
        -------
        self : AudioAugmenter
            The augmenter.
        """
        if "operations" in params:
            self.operations = params.pop("operations")
        named = self._named_operations(strict=False)
        if any(key.partition("__")[0] in dict(named) for key in params):
            # the default or unnamed operations become an explicit named list, so that
            # scikit-learn's nested set_params changes the objects the augmenter keeps
            self.operations = [(name, params.pop(name, op)) for name, op in named]
        return super().set_params(**params)

    # ------------------------------------------------------------------ validation
    def _check_X_y(self, X, y, accept_sparse=None):
        if issparse(X):  # audio is dense; sklearn's wording, which its checks look for
            raise TypeError(
                "Sparse data was passed for X, but dense data is required. AudioAugmenter "
                "works on waveforms: use X.toarray()."
            )
        if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 2:
            X = X.astype(np.float64)  # numbers stored as objects; anything else raises
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        clips, is_matrix = validate_clips(self, X, reset=True)
        check_consistent_length(np.arange(len(clips)), y)
        return clips, y, binarize_y

    def _prepare(self, X, y):
        if y is None:
            raise ValueError(
                "AudioAugmenter requires y to be passed, but the target y is None. Pass "
                "the class labels: fit_resample(X, y)."
            )
        check_classification_targets(y)
        self.sr_ = resolve_sr(self.sr, X, caller="AudioAugmenter")
        named = self._named_operations(strict=True)
        for _, op in named:
            op._validate()  # scikit-learn's parameter validation, errors name the operation
        clips, y_flat, binarize_y = self._check_X_y(X, y)
        counts_after = {c: n * (1 + self.n_copies) for c, n in Counter(y_flat).items()}
        if self.sampling_strategy is None:
            self.sampling_strategy_ = {}
        else:
            y_after = np.repeat(y_flat, 1 + self.n_copies)
            try:
                self.sampling_strategy_ = dict(
                    check_sampling_strategy(self.sampling_strategy, y_after, self._sampling_type)
                )
            except ValueError as exc:
                if self.n_copies and isinstance(self.sampling_strategy, dict):
                    raise ValueError(
                        f"{exc} AudioAugmenter evaluates sampling_strategy after its "
                        f"n_copies={self.n_copies} copies of every clip (class counts "
                        f"{counts_after}): give final counts at least that large, or "
                        "set n_copies=0."
                    ) from exc
                raise
        return named, clips, y_flat, binarize_y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Check the clips and the labels and work out the balancing counts.

        Use :meth:`fit_resample` to get the augmented data.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D arrays
            The clips.

        y : array-like of shape (n_clips,)
            Class labels.

        Returns
        -------
        self : AudioAugmenter
            The fitted sampler.
        """
        self._prepare(X, y)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y):
        """Return the clips followed by their augmented copies, and the labels.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples), sequence of 1-D arrays or DataFrame
            The clips (a :class:`~sklaudio.utils.ClipArray` carries its rate).

        y : array-like of shape (n_clips,)
            Class labels.

        Returns
        -------
        X_resampled : ClipArray of shape (n_resampled, n_samples) or (n_resampled,)
            Originals first, then the copies; same container as ``X`` for a
            DataFrame or a list.

        y_resampled : ndarray of shape (n_resampled,)
            Labels (same container as ``y``).
        """
        named, clips, y_flat, binarize_y = self._prepare(X, y)
        if hasattr(X, "iloc") and hasattr(X, "columns") and any(
            op.changes_length for _, op in named
        ):
            raise ValueError(
                "AudioAugmenter got a DataFrame, but its operations change clip lengths "
                "(TimeStretch without keep_length, TrimSilence), which a DataFrame cannot "
                "hold. Use TimeStretch(keep_length=True), or pass a ClipArray."
            )
        X_res, y_res = self._fit_resample(clips, y_flat)
        if binarize_y:
            y_res = label_binarize(y_res, classes=np.unique(y_flat))
        return self._like(X_res, X), self._like_y(y_res, y)

    def _fit_resample(self, X, y):
        """Augment validated clips ``X`` (matrix or list) with 1-D labels ``y``."""
        named = self._named_operations()
        is_matrix = isinstance(X, np.ndarray)
        rng = check_random_state(self.random_state)
        n = len(X)
        sources = [np.repeat(np.arange(n), self.n_copies)]
        for cls, n_new in self.sampling_strategy_.items():
            if n_new <= 0:
                continue
            idx = np.flatnonzero(y == cls)
            full, rest = divmod(n_new, idx.size)
            extra = np.sort(rng.choice(idx, size=rest, replace=False))
            sources.append(np.concatenate([np.tile(idx, full), extra]).astype(int))
        copy_src = np.concatenate(sources).astype(int)
        # one seed per copy, drawn up front: the same output with any n_jobs
        seeds = rng.randint(np.iinfo(np.int32).max, size=copy_src.size)
        results = map_clips(
            _augment_one,
            [(X[i], int(s)) for i, s in zip(copy_src, seeds)],
            n_jobs=self.n_jobs,
            operations=[op for _, op in named],
            sr=self.sr_,
        )
        self.sample_indices_ = np.concatenate([np.arange(n), copy_src])
        self._record_skips(named, [st for _, st in results])
        out = [np.array(c, copy=True) for c in X] + [c for c, _ in results]
        return wrap_clips(out, self.sr_, as_matrix=is_matrix), y[self.sample_indices_]

    def _record_skips(self, named, statuses):
        self.n_skipped_ = {}
        for j, (name, op) in enumerate(named):
            skipped = sum(st[j] == TOO_SHORT for st in statuses)
            if skipped:
                self.n_skipped_[name] = skipped
                warnings.warn(
                    f"AudioAugmenter: operation {name!r} ({type(op).__name__}) was skipped "
                    f"for {skipped} copies whose clip is shorter than "
                    f"{op.min_samples(self.sr_)} samples; those copies have the other "
                    "operations only. Pad short clips first to include them.",
                    AudioWarning,
                    stacklevel=5,  # the caller of fit_resample
                )
        self.n_applied_ = {
            name: sum(st[j] == APPLIED for st in statuses) for j, (name, _) in enumerate(named)
        }

    @staticmethod
    def _like(X_res, X):
        if isinstance(X, list):
            return [np.asarray(c) for c in X_res]
        if hasattr(X, "iloc") and hasattr(X, "columns"):
            import pandas as pd

            df = pd.DataFrame(np.asarray(X_res), columns=X.columns)
            try:
                df = df.astype(X.dtypes.to_dict())
            except (TypeError, ValueError):
                pass
            df.attrs.update(getattr(X, "attrs", {}))
            return df
        return X_res

    @staticmethod
    def _like_y(y_res, y):
        if isinstance(y, list):
            return y_res.tolist()
        if hasattr(y, "iloc"):
            import pandas as pd

            if hasattr(y, "columns"):
                return pd.DataFrame(y_res, columns=y.columns)
            return pd.Series(y_res, name=y.name, dtype=y.dtype)
        return y_res

    def get_feature_names_out(self, input_features=None):
        """Column names of the output, for a matrix of equal-length clips.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; must match ``feature_names_in_`` when it exists.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The input's column names (the clips keep their length).
        """
        check_is_fitted(self, "sampling_strategy_")
        if any(op.changes_length for _, op in self._named_operations()):
            raise ValueError(
                "AudioAugmenter has no fixed output columns: its operations change clip "
                "lengths. Use TimeStretch(keep_length=True) and no TrimSilence."
            )
        if not hasattr(self, "n_features_in_"):
            raise ValueError(
                "AudioAugmenter has no fixed output columns: it was fitted on clips of "
                "different lengths. Fit it on a matrix (n_clips, n_samples) first."
            )
        return super().get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # audio is dense
        tags.sampler_tags.sample_indices = True
        return tags
