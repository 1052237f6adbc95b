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

Long recordings come as :class:`~sklaudio.utils._stream.StreamedClip` items of a list;
an extractor that can read them block by block also implements::

    def _extract_stream(self, clip):     # StreamedClip -> (n_features,) float64 row

which reads the clip through :func:`clip_pieces` (frame-aligned pieces, samples checked
as they are read) and summarises with :class:`~sklaudio.features._accumulate.
StatsAccumulator`, so that its memory is set by the piece, not by the clip.

Every ``transform`` and ``fit_transform`` of a subclass, its own or inherited, is
wrapped so that it raises one :class:`~sklaudio.exceptions.AudioQualityWarning`
naming the clips that carry no usable speech (see :mod:`sklaudio.features._quality`);
a class sets ``_sklaudio_quality_warning = False`` to opt out.
"""

import threading
from functools import wraps

import numpy as np
from sklearn.base import TransformerMixin

from sklaudio.utils._audio import (
    carried_sr,
    map_clips,
    resolve_sr,
    transform_sr,
    validate_clips,
)
from sklaudio.utils._compat import _fit_context, check_is_fitted
from sklaudio.utils._stream import StreamedClip, checked_blocks, frame_chunks, is_streamed

__all__ = ["ClipFeaturesMixin", "check_stats", "clip_blocks", "clip_pieces",
           "map_with_quality", "stat_names", "summarise"]

# rows per batched call on a matrix: big enough to amortise Python overhead, small
# enough that (rows, n_freq, n_frames) complex STFTs stay a few hundred MB at most
_BLOCK_ROWS = 32


def clip_blocks(clips, is_matrix):
    """Row blocks of a matrix of clips, or each ragged clip as a (1, n_samples) block.

    A streamed clip stays as it is: its extractor reads it piece by piece.
    """
    if is_matrix:
        return [clips[i : i + _BLOCK_ROWS] for i in range(0, len(clips), _BLOCK_ROWS)]
    return [c if is_streamed(c) else c[np.newaxis, :] for c in clips]


#: Frames per piece of a streamed clip: with n_fft=2048 a piece's STFT is about 2 MB.
STREAM_FRAMES = 256


def _run_block(Y, estimator):
    if is_streamed(Y):  # one long clip, read piece by piece
        return np.asarray(estimator._extract_stream(Y), dtype=np.float64)[np.newaxis, :]
    return estimator._extract_block(Y)


class _CheckedSource:
    """The blocks of a streamed clip through checked_blocks (picklable, unlike a closure)."""

    def __init__(self, clip, caller, tap=None):
        self.clip = clip
        self.caller = caller
        self.tap = tap

    def __call__(self, block_size):
        for b in checked_blocks(self.clip, self.caller, block_size):
            if self.tap is not None:
                self.tap(b)
            yield b


def clip_pieces(clip, caller, *, frame_length, hop_length, center=True, pad_mode="constant",
                pad_short=False, pad_end=False, frames_per_chunk=STREAM_FRAMES,
                block_size=None, tap=None):
    """:func:`~sklaudio.utils._stream.frame_chunks` of a streamed clip, samples checked.

    Yields ``(piece, t0)``: framing ``piece`` with ``center=False`` gives frames ``t0,
    t0 + 1, ...`` of the whole clip framed with the given parameters. A NaN or
    infinite sample raises a ValueError naming the clip, the sample and ``caller``.
    ``tap``, if given, is called with each block of the clip's samples as it is read
    (each sample once, in order), for sample-level statistics in the same read. The
    quality check of a clip (see :func:`map_with_quality`) rides on its first read
    the same way.
    """
    pending = getattr(_STATE, "pending_check", None)
    if pending is not None and pending[0] is clip:  # the first read of a clip to check
        _STATE.pending_check = None
        tap = pending[1] if tap is None else _Taps(tap, pending[1])
    checked = StreamedClip(_CheckedSource(clip, caller, tap), sr=clip.sr,
                           n_samples=clip.n_samples, dtype=clip.dtype, name=clip.name)
    return frame_chunks(checked, frame_length=frame_length, hop_length=hop_length,
                        center=center, pad_mode=pad_mode, pad_short=pad_short, pad_end=pad_end,
                        frames_per_chunk=frames_per_chunk, block_size=block_size)


_STATE = threading.local()
_WRAPPED = set()


def with_quality_warning(method):
    """Wrap an extractor's ``transform`` or ``fit_transform`` to warn once about bad clips.

    The warning comes after the method succeeded (bad input raises its own error
    first). Nested calls, such as a ``fit_transform`` that calls ``transform``, warn
    only at the outermost. The flags measured by :func:`map_with_quality` during the
    call are used; the clips it did not measure are measured here.
    """

    @wraps(method)
    def wrapped(self, X, *args, **kwargs):
        depth = getattr(_STATE, "depth", 0)
        _STATE.depth = depth + 1
        if depth == 0:
            _STATE.codes = None
        try:
            out = method(self, X, *args, **kwargs)
        finally:
            _STATE.depth = depth
        if depth == 0:
            known, _STATE.codes = _STATE.codes, None
            if getattr(self, "_sklaudio_quality_warning", True):
                from sklaudio.features._quality import warn_on_bad_clips  # it imports us

                codes = known[1] if known is not None and known[0] is X else None
                warn_on_bad_clips(self, X, stacklevel=2, codes=codes)
        return out

    _WRAPPED.add(wrapped)
    return wrapped


class _CheckStream:
    """A streamed clip whose quality flag is to be measured during the extractor's read."""

    def __init__(self, clip):
        self.clip = clip


class _Taps:
    """Two taps of :func:`clip_pieces` called one after the other."""

    def __init__(self, *taps):
        self.taps = taps

    def __call__(self, block):
        for tap in self.taps:
            tap(block)


def _checked_run(item, step, quality_sr, step_kwargs):
    """``step(item)`` and the quality flags of the clips of ``item`` (None: not measured).

    ``item``: a block of clips as :func:`clip_blocks` gives, one 1-D clip, or a
    streamed clip. A streamed clip is measured only when wrapped in
    :class:`_CheckStream` (else its flag is known already): its samples then go to the
    quick check as the extractor's first read hands them out, so that checking it
    costs no read of its own (see :func:`clip_pieces`).
    """
    from sklaudio.features._quality import _quick_code, _quick_code_stream, _QuickCheck

    if type(item) is _CheckStream:
        clip = item.clip
        check = _QuickCheck(clip.n_samples, quality_sr)
        _STATE.pending_check = (clip, check)
        try:
            out = step(clip, **step_kwargs)
        finally:
            _STATE.pending_check = None
        return out, [_quick_code_stream(clip, quality_sr, "the quality check", check)]
    out = step(item, **step_kwargs)
    if quality_sr is None or is_streamed(item):
        return out, None
    rows = item if np.ndim(item) == 2 else [item]
    return out, [_quick_code(y, quality_sr) for y in rows]


def _n_clips(item):
    return 1 if is_streamed(item) or np.ndim(item) == 1 else len(item)


def map_with_quality(step, items, X, owner, *, desc=None, positions=None, n_clips=None,
                     **kwargs):
    """``map_clips(step, items, ...)`` for the extractor ``owner``, measuring the
    quality flags in the same tasks.

    The quality check of the warning (see :func:`with_quality_warning`) costs about a
    third of the cheapest extractors' work; measured in the same parallel tasks, it
    adds no dispatch of its own. ``items`` must hold the clips of ``X`` in order: row
    blocks, (1, n) clips, 1-D clips or streamed clips; or, with ``positions`` (one
    clip per item) and ``n_clips``, some of them: item ``k`` is clip ``positions[k]``
    of the ``n_clips`` clips of ``X``.
    """
    from sklaudio.features._quality import _STREAM_CODES  # it imports this module

    sr = owner.sr_ if getattr(owner, "_sklaudio_quality_warning", True) else None
    # a streamed clip's flag is kept with the clip object: the first extractor of a
    # FeatureUnion measures it, the others find it
    todo = [sr is not None and is_streamed(c) and sr not in _STREAM_CODES.get(c, {})
            for c in items]
    sent = [_CheckStream(c) if t else c for c, t in zip(items, todo)]
    pairs = map_clips(_checked_run, sent, n_jobs=owner.n_jobs, verbose=owner.verbose,
                      desc=desc or type(owner).__name__, step=step, quality_sr=sr,
                      step_kwargs=kwargs)
    if sr is not None and getattr(_STATE, "depth", 0) > 0:
        for item, t, (_, c) in zip(items, todo, pairs):
            if t:
                _STREAM_CODES.setdefault(item, {})[sr] = c[0]
        codes = []
        for item, (_, c) in zip(items, pairs):
            codes.extend([-1] * _n_clips(item) if c is None else c)
        if positions is not None:
            codes, known = np.full(n_clips, -1), codes
            codes[positions] = known
        _STATE.codes = (X, np.asarray(codes, dtype=int))
    return [out for out, _ in pairs]


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
            any length (a :class:`~sklaudio.utils.ClipArray` carries its ``sr``). A
            long recording in the list may be a streamed clip, read block by block.

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : object
            The fitted extractor.
        """
        clips, is_matrix = validate_clips(self, X, reset=True)
        self.sr_ = resolve_sr(self.sr, X, caller=type(self).__name__)
        if self.sr is None and carried_sr(X) is None:
            # streamed clips know their rate: follow it as a ClipArray's is followed
            rates = {c.sr for c in clips if is_streamed(c)}
            if len(rates) == 1:
                self.sr_ = rates.pop()
        if not is_matrix:
            self._check_streamed(clips)
        self._check_params()
        self._n_features_out = len(self._feature_names())
        return self

    def transform(self, X):
        """Compute the features of each clip.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D ndarray
            Audio clips at the rate seen in ``fit``. Clips may have any length; a
            long recording in the list may be a streamed clip, read block by block
            in bounded memory.

        Returns
        -------
        X_new : ndarray of shape (n_clips, n_features_out)
            One row per clip, in input order. float32 for a float32 matrix, else
            float64.
        """
        check_is_fitted(self)
        clips, is_matrix = validate_clips(self, X, reset=False)
        self._check_sr(X)
        if not is_matrix:
            self._check_streamed(clips)
        blocks = clip_blocks(clips, is_matrix)
        dtype = clips.dtype if is_matrix else np.float64
        rows = map_with_quality(_run_block, blocks, X, self, estimator=self)
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

    def _check_streamed(self, clips):
        """Refuse streamed clips this extractor cannot read, or at another rate."""
        name = type(self).__name__
        for i, c in enumerate(clips):
            if not is_streamed(c):
                continue
            subject = f"clip {i}" + (f" ({c.name})" if c.name else "")
            if not hasattr(self, "_extract_stream"):
                raise ValueError(
                    f"{name} cannot read a streamed (long) clip block by block yet, and "
                    f"{subject} is one. Load it whole (sklaudio.load_audio) if it fits in "
                    "memory, or cut it into shorter clips."
                )
            if c.sr != self.sr_:
                raise ValueError(
                    f"{subject} is streamed at {c.sr} Hz but {name} was fitted at "
                    f"{self.sr_} Hz. Resample it to {self.sr_} Hz (load with "
                    f"AudioLoader(sr={self.sr_})), or fit {name} on clips at {c.sr} Hz."
                )

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
