"""Trim silences, drop fixed head/tail, and pad or crop clips to a fixed duration."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from sklaudio.exceptions import AudioWarning, ParameterError
from sklaudio.utils import _dsp
from sklaudio.utils._audio import (
    AudioTransformerMixin,
    map_clips,
    resolve_sr,
    transform_sr,
    validate_clips,
    wrap_clips,
)
from sklaudio.utils._compat import Interval, StrOptions, _fit_context
from sklaudio.utils._docstring import AUDIO_STEP_DOCS, Substitution
from sklaudio.utils._stream import StreamedClip, checked, frame_chunks, is_streamed

_AMIN = 1e-5  # librosa.amplitude_to_db's floor


def frame_db(y, *, frame_length=2048, hop_length=512, ref=np.max):
    """Frame-wise RMS level in dB relative to ``ref``, as ``librosa.effects.trim`` sees it.

    Frames are centred (``frame_length // 2`` zeros on each side), as in
    ``librosa.feature.rms(center=True)`` (:func:`sklaudio.utils._dsp.rms`, in float64).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        One clip.

    frame_length : int, default=2048
        Samples per analysis frame.

    hop_length : int, default=512
        Samples between frames.

    ref : callable or float, default=np.max
        Reference amplitude: a function of the frames' RMS values, or a number.

    Returns
    -------
    db : ndarray of shape (n_frames,)
        ``20 * log10(max(rms, 1e-5) / max(ref, 1e-5))`` per frame.

    See Also
    --------
    librosa.feature.rms : Frame-wise RMS.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.preprocessing import frame_db
    >>> y = np.r_[np.zeros(4096), np.ones(4096), np.zeros(4096)]
    >>> np.round(frame_db(y, frame_length=2048, hop_length=1024), 1)[:6]
    array([-100., -100., -100., -100.,   -3.,    0.])
    """
    if len(y) + 2 * (frame_length // 2) < frame_length:  # odd frame_length, empty clip
        y = np.zeros(1, dtype=y.dtype)
    rms = _dsp.rms(y, frame_length=frame_length, hop_length=hop_length, center=True)
    return _rms_db(rms, ref)


def _rms_db(rms, ref):
    ref_value = ref(rms) if callable(ref) else np.abs(ref)
    return 10.0 * (np.log10(np.maximum(_AMIN**2, rms**2))
                   - np.log10(np.maximum(_AMIN**2, ref_value**2)))


def _speech_intervals(y, *, top_db, ref, frame_length, hop_length):
    """Sample intervals (start, end) of runs of non-silent frames, as librosa.effects.split."""
    db = frame_db(y, frame_length=frame_length, hop_length=hop_length, ref=ref)
    return _loud_intervals(db, top_db=top_db, hop_length=hop_length, n_samples=len(y))


def _loud_intervals(db, *, top_db, hop_length, n_samples):
    loud = db > -top_db
    edges = np.flatnonzero(np.diff(np.r_[0, loud.astype(np.int8), 0]))
    starts, ends = edges[::2] * hop_length, np.minimum(edges[1::2] * hop_length, n_samples)
    return np.stack([starts, ends], axis=1)


def _kept_pieces(iv, *, min_silence, keep_silence):
    """(starts, ends) of the parts kept around the speech intervals ``iv`` (non-empty)."""
    if min_silence is None:
        return [iv[0, 0]], [iv[-1, 1]]
    pieces = [iv[0, 0]]  # cut points: keep [p0, p1), [p2, p3), ...
    for (_, prev_end), (next_start, _) in zip(iv[:-1], iv[1:]):
        if next_start - prev_end > max(min_silence, 2 * keep_silence):
            pieces += [prev_end + keep_silence, next_start - keep_silence]
    pieces.append(iv[-1, 1])
    return pieces[::2], pieces[1::2]


def _fix_length(y, size, *, crop, offset, pad_mode):
    n = len(y)
    if n > size:
        start = {"start": 0, "center": (n - size) // 2}.get(crop)
        if start is None:  # random
            start = int(offset * (n - size + 1))
        return y[start : start + size]
    if n < size:
        before = (size - n) // 2 if crop == "center" else 0
        return np.pad(y, (before, size - n - before), mode=pad_mode)
    return y


def _trim_clip(y, *, head, tail, top_db, ref, frame_length, hop_length, min_silence,
               keep_silence, duration, crop, offset, pad_mode):
    """Apply the Trimmer's steps to one clip; returns (clip, nothing_left)."""
    y = y[head : max(head, len(y) - tail)]
    if top_db is not None and len(y):
        iv = _speech_intervals(y, top_db=top_db, ref=ref, frame_length=frame_length,
                               hop_length=hop_length)
        if len(iv) == 0:
            y = y[:0]
        else:
            starts, ends = _kept_pieces(iv, min_silence=min_silence, keep_silence=keep_silence)
            y = np.concatenate([y[a:b] for a, b in zip(starts, ends)])
    empty = len(y) == 0
    if empty:
        y = np.zeros(duration if duration is not None else frame_length, dtype=y.dtype)
    elif duration is not None:
        y = _fix_length(y, duration, crop=crop, offset=offset, pad_mode=pad_mode)
    return y, empty


# ------------------------------------------------------------------ long (streamed) clips
class _PiecesSource:
    """The samples ``[starts[i], ends[i])`` of a StreamedClip, in order: a trimmed clip,
    read from its input whenever it is read (nothing is stored)."""

    def __init__(self, clip, starts, ends):
        self.clip = clip
        self.starts = np.asarray(starts, dtype=np.int64)
        self.ends = np.asarray(ends, dtype=np.int64)

    def __call__(self, block_size):
        out, n_out, pos, k = [], 0, 0, 0
        n_pieces = len(self.starts)
        for b in self.clip.blocks(max(block_size, 1 << 16)):
            lo, hi = pos, pos + len(b)
            pos = hi
            while k < n_pieces and self.starts[k] < hi:
                s, e = max(self.starts[k], lo), min(self.ends[k], hi)
                if e > s:
                    out.append(b[s - lo : e - lo])
                    n_out += e - s
                if self.ends[k] > hi:
                    break
                k += 1
            while n_out >= block_size:
                joined = np.concatenate(out) if len(out) > 1 else out[0]
                yield joined[:block_size]
                out, n_out = [joined[block_size:]], n_out - block_size
            if k == n_pieces:
                break
        if n_out:
            yield np.concatenate(out)


def _pieces(clip, starts, ends):
    starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    return StreamedClip(_PiecesSource(clip, starts, ends), sr=clip.sr,
                        n_samples=int(np.sum(ends - starts)), dtype=clip.dtype, name=clip.name)


def _within(starts, ends, a, b):
    """The pieces cut to ``[a, b)`` of their concatenation."""
    starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
    offsets = np.r_[0, np.cumsum(ends - starts)]
    new_starts = starts + np.clip(a - offsets[:-1], 0, ends - starts)
    new_ends = starts + np.clip(b - offsets[:-1], 0, ends - starts)
    return new_starts, new_ends


def _trim_stream(clip, *, offset, head, tail, top_db, ref, frame_length, hop_length,
                 min_silence, keep_silence, duration, crop, pad_mode, caller="Trimmer"):
    """:func:`_trim_clip` of a StreamedClip: a lazy StreamedClip of the parts kept, or (with
    ``duration``) the fixed-length array. Silence trimming costs one first read of the clip
    (its frame levels, one float per hop, decide what is kept)."""
    clip = checked(clip, caller)
    starts, ends = [head], [max(head, clip.n_samples - tail)]
    if top_db is not None and ends[0] > starts[0]:
        sub = _pieces(clip, starts, ends)
        rms = np.concatenate([
            _dsp.rms(piece, frame_length=frame_length, hop_length=hop_length, center=False)
            for piece, _ in frame_chunks(sub, frame_length=frame_length, hop_length=hop_length,
                                         center=True)])
        iv = _loud_intervals(_rms_db(rms, ref), top_db=top_db, hop_length=hop_length,
                             n_samples=sub.n_samples)
        if len(iv) == 0:
            starts, ends = [head], [head]
        else:
            s, e = _kept_pieces(iv, min_silence=min_silence, keep_silence=keep_silence)
            starts, ends = np.add(s, head), np.add(e, head)
    kept = _pieces(clip, starts, ends)
    n = kept.n_samples
    if n == 0:
        return np.zeros(duration if duration is not None else frame_length, clip.dtype), True
    if duration is None:
        return kept, False
    if n > duration:  # the window _fix_length keeps, read alone
        start = {"start": 0, "center": (n - duration) // 2}.get(crop)
        if start is None:  # random
            start = int(offset * (n - duration + 1))
        return _pieces(clip, *_within(kept.source.starts, kept.source.ends, start,
                                      start + duration)).read(), False
    return _fix_length(kept.read(), duration, crop=crop, offset=offset, pad_mode=pad_mode), False


class Trimmer(AudioTransformerMixin, BaseEstimator):
    """Trim silences, drop a fixed head and tail, and fix the clips' duration.

    Four behaviours, each off unless asked for (except the leading/trailing trim,
    which is on as in ``librosa.effects.trim``), applied in this order to each clip:

    1. drop ``head`` seconds at the start and ``tail`` seconds at the end;
    2. with ``top_db``: cut leading and trailing silence, exactly as
       ``librosa.effects.trim(y, top_db=top_db, ref=ref, frame_length=frame_length,
       hop_length=hop_length)`` does (same indices);
    3. with ``top_db`` and ``min_silence``: shorten every internal silence longer than
       ``min_silence`` seconds to ``keep_silence`` seconds on each side of the speech
       around it (the rest of the gap is cut), as pydub's ``split_on_silence`` and a
       join would;
    4. with ``duration``: crop or pad each clip to exactly ``duration`` seconds.

    Parameters
    ----------
    sr : number or None, default=None
        Sampling rate in Hz, used to turn seconds into samples. None follows the rate
        the clips carry in :term:`fit`, else librosa's 22050; a different carried rate
        raises. In ``transform``, plain arrays (no carried rate) are taken to be at the
        rate resolved in ``fit`` (``sr_``), and clips carrying another rate raise.

    top_db : float or None, default=60
        Threshold in dB below ``ref`` under which a frame is silence, for steps 2
        and 3. None disables both.

    ref : callable or float, default=np.max
        Reference amplitude of the RMS frames: a function of them (per clip) or a
        number, as in librosa.

    frame_length : int, default=2048
        Samples per analysis frame.

    hop_length : int, default=512
        Samples between analysis frames.

    min_silence : float or None, default=None
        Internal silences longer than this (seconds) are shortened. None disables.

    keep_silence : float, default=0.1
        Seconds of silence kept next to speech on each side of a shortened silence.

    head : float, default=0.0
        Seconds dropped at the start of every clip.

    tail : float, default=0.0
        Seconds dropped at the end of every clip.

    duration : float or None, default=None
        Output duration in seconds (``round(duration * sr)`` samples). None keeps
        the lengths the other steps leave.

    crop : {"start", "center", "random"}, default="start"
        Which part of a longer clip to keep: its start, its centre, or a random
        window (drawn with ``random_state``). Shorter clips are padded at the end, or
        on both sides for ``"center"``.

    pad_mode : str, default="constant"
        :func:`numpy.pad` mode for padding ("constant" pads zeros; "reflect",
        "wrap", "edge", ...).

    random_state : int, RandomState instance or None, default=None
        Seeds the random crop. An int makes ``transform`` give the same windows on
        every call.

    n_jobs : int or None, default=None
        Parallel jobs over clips, joblib's meaning.

    verbose : int, default=0
        Print a progress bar to stderr when > 0.

    Attributes
    ----------
    sr_ : int or float
        Sampling rate resolved in :term:`fit`; gives the output width of
        :meth:`get_feature_names_out`.

    n_features_in_ : int
        Clip length seen in :term:`fit`, when fitted on a matrix.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :term:`fit`, when fitted on a DataFrame of string columns.

    See Also
    --------
    Denoiser : Spectral-gating noise reduction.
    librosa.effects.trim : Leading/trailing silence trimming of one signal.

    Notes
    -----
    The number and order of clips never change. The output is a matrix ``(n_clips,
    round(duration * sr))`` when ``duration`` is set (whatever the input form), or
    when a matrix gets only ``head``/``tail`` (``top_db=None``); otherwise an object
    :class:`~sklaudio.utils.ClipArray` of clips of varying lengths.

    A clip with nothing left (every frame silent for a fixed ``ref``, or ``head +
    tail`` at least its length) becomes zeros, of ``duration`` if set, else of
    ``frame_length`` samples, never an empty array; an :class:`~sklaudio.exceptions.
    AudioWarning` names those clips. With ``ref=np.max`` a clip always has a loud
    frame, so silence trimming alone never empties one (an all-zero clip is kept
    whole, as in librosa). A clip shorter than a frame is analysed in one padded
    frame.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.preprocessing import Trimmer
    >>> sr = 8000
    >>> tone = np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    >>> y = np.r_[np.zeros(sr), tone, np.zeros(sr)]      # 1 s silence, 1 s tone, 1 s silence
    >>> [len(c) / sr for c in Trimmer(sr=sr).fit_transform([y, tone[:4000]])]
    [1.28, 0.5]
    >>> Trimmer(sr=sr, duration=0.75).fit_transform([y, tone[:4000]]).shape
    (2, 6000)
    """

    # stateless and deterministic (the random crop follows random_state): a cached search
    # may run it once for all folds
    _sklaudio_cacheable = True

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "top_db": [Real, None],
        "ref": [callable, Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "min_silence": [Interval(Real, 0, None, closed="left"), None],
        "keep_silence": [Interval(Real, 0, None, closed="left")],
        "head": [Interval(Real, 0, None, closed="left")],
        "tail": [Interval(Real, 0, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither"), None],
        "crop": [StrOptions({"start", "center", "random"})],
        "pad_mode": [StrOptions({"constant", "edge", "linear_ramp", "maximum", "mean",
                                 "median", "minimum", "reflect", "symmetric", "wrap"})],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sr=None,
        top_db=60,
        ref=np.max,
        frame_length=2048,
        hop_length=512,
        min_silence=None,
        keep_silence=0.1,
        head=0.0,
        tail=0.0,
        duration=None,
        crop="start",
        pad_mode="constant",
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.sr = sr
        self.top_db = top_db
        self.ref = ref
        self.frame_length = frame_length
        self.hop_length = hop_length
        self.min_silence = min_silence
        self.keep_silence = keep_silence
        self.head = head
        self.tail = tail
        self.duration = duration
        self.crop = crop
        self.pad_mode = pad_mode
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    @Substitution(**AUDIO_STEP_DOCS)
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the clips, and record the sampling rate.

        Parameters
        ----------
        {fit_X_y}

        Returns
        -------
        self : Trimmer
            The estimator.
        """
        validate_clips(self, X, reset=True)
        self.sr_ = resolve_sr(self.sr, X, caller=type(self).__name__)
        self._samples(self.sr_)
        return self

    def transform(self, X):
        """Trim, cut and pad each clip.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D arrays
            The clips. Integer PCM is scaled to float32 in [-1, 1].

        Returns
        -------
        X_trimmed : ClipArray
            One clip per input clip, in order, carrying ``sr``: a matrix when the
            output length is fixed (see Notes), else an object array.
        """
        self._validate_params()
        clips, is_matrix = validate_clips(self, X, reset=False)
        sr = transform_sr(self, X)
        s = self._samples(sr)
        rng = check_random_state(self.random_state)
        offsets = rng.uniform(size=len(clips)) if self.crop == "random" else np.zeros(len(clips))
        params = dict(top_db=self.top_db, ref=self.ref, frame_length=self.frame_length,
                      hop_length=self.hop_length, crop=self.crop, pad_mode=self.pad_mode, **s)
        # a long clip is trimmed lazily (after a first read of its levels), the others
        # whole and in parallel
        short = [(c, o) for c, o in zip(clips, offsets) if not is_streamed(c)]
        done = iter(map_clips(_trim_pair, short, n_jobs=self.n_jobs, verbose=self.verbose,
                              desc="Trimmer", **params))
        results = [_trim_stream(c, offset=o, **params) if is_streamed(c) else next(done)
                   for c, o in zip(clips, offsets)]
        empty = [i for i, (_, e) in enumerate(results) if e]
        if empty:
            n = s["duration"] if s["duration"] is not None else self.frame_length
            warnings.warn(
                f"Trimmer left nothing of clip(s) {empty[:20]}{' ...' if len(empty) > 20 else ''} "
                f"(every frame below top_db={self.top_db} relative to ref, or head + tail "
                f"covers the clip); they are returned as {n} zeros. Lower top_db, or use "
                "ref=np.max, or drop these clips.",
                AudioWarning,
                stacklevel=2,
            )
        out = [r for r, _ in results]
        fixed = self.duration is not None or (is_matrix and self.top_db is None)
        return self._wrap_output(wrap_clips(out, sr, as_matrix=fixed), sr, X)

    def _samples(self, sr):
        def n(seconds):
            return None if seconds is None else int(round(seconds * sr))

        s = dict(head=n(self.head), tail=n(self.tail), duration=n(self.duration),
                 min_silence=n(self.min_silence), keep_silence=n(self.keep_silence))
        if s["duration"] == 0:
            raise ParameterError(
                f"Trimmer(duration={self.duration}) is less than one sample at sr={sr}; "
                "use a longer duration."
            )
        return s

    def _n_samples_out(self, n_samples_in):
        sr = getattr(self, "sr_", None) or resolve_sr(self.sr, None, caller="Trimmer")
        s = self._samples(sr)
        if s["duration"] is not None:
            return s["duration"]
        if self.top_db is None:
            left = n_samples_in - s["head"] - s["tail"]
            return left if left > 0 else self.frame_length
        raise ValueError(
            "Trimmer's output length depends on the audio (silence trimming is on), so it "
            "has no fixed output columns. Set duration=... or top_db=None."
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.non_deterministic = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _trim_pair(pair, **params):
    clip, offset = pair
    return _trim_clip(clip, offset=offset, **params)
