"""Per-clip audio quality: which clips carry usable speech, and how to abstain on the rest.

A feature extractor always returns a row, even for a clip of silence or of one sample,
and a classifier then answers with confidence from nothing. This module measures each
clip (length, level, clipping, a signal-to-noise estimate, the fraction of voiced
frames) and gives it a flag:

- ``"too_short"``: shorter than ``MIN_DURATION_S`` (0.1 s), too short to analyse;
- ``"silent"``: its peak is below ``SILENCE_DBFS`` (-60 dBFS): near or digital silence;
- ``"no_voice"``: less than ``MIN_VOICED_S`` (0.1 s) of voiced frames: noise, music
  without a voice, hum of no pitch, clicks;
- ``"ok"``: otherwise.

Every clip-level feature extractor raises one :class:`~sklaudio.exceptions.
AudioQualityWarning` per call naming the clips that are not ``"ok"``; :func:`abstain`
turns their predictions into NaN (or a label) for users who prefer no answer.
"""

import warnings
import weakref
from functools import lru_cache
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.fft
from sklearn.base import BaseEstimator

from sklaudio.exceptions import AudioQualityWarning
from sklaudio.features._base import ClipFeaturesMixin, clip_pieces
from sklaudio.utils._audio import check_clips, map_clips, resolve_sr
from sklaudio.utils._compat import Interval
from sklaudio.utils._docstring import CLIP_FEATURES_DOCS, Substitution
from sklaudio.utils._dsp import frame_count
from sklaudio.utils._stream import checked_blocks, is_streamed

__all__ = [
    "MIN_DURATION_S",
    "MIN_VOICED_S",
    "QUALITY_FLAGS",
    "SILENCE_DBFS",
    "AudioQuality",
    "abstain",
    "assess_quality",
]

#: The flags, in the order of their numeric codes in :class:`AudioQuality`'s output.
QUALITY_FLAGS = ("ok", "too_short", "silent", "no_voice")
#: Clips shorter than this (seconds) are "too_short".
MIN_DURATION_S = 0.1
#: Clips whose peak is below this level (dB relative to full scale 1.0) are "silent".
SILENCE_DBFS = -60.0
#: Clips with less voiced time than this (seconds) are "no_voice".
MIN_VOICED_S = 0.1

COLUMNS = ("duration_s", "rms_dbfs", "peak_dbfs", "clipping_rate", "snr_db",
           "voiced_fraction", "quality")

_FLOOR_DB = -120.0  # levels of digital silence: finite, far below any recording's noise
_MAX_SNR_DB = 120.0
_FRAME_S = 0.04  # two periods of a 50 Hz voice
_HOP_S = 0.02
_FMIN, _FMAX = 60.0, 500.0  # pitch range searched for voicing: men to children
_VOICING = 0.5  # normalised autocorrelation peak of a voiced frame (Praat uses 0.45)
_MIN_RUN = 3  # voiced frames in a row (80 ms) ...
_STEADY = 0.15  # ... whose period changes by at most 15 % from frame to frame
_CLIP_LEVEL = 0.999  # |sample| at or above this counts as clipped (full scale 1.0)
_QUIET_SHARE = 0.1  # SNR: the quietest and the loudest tenth of the frames
# Frames whose voicing is computed together: at 16 kHz their arrays take about 2 MB,
# which a core's cache holds (a whole clip's do not: 36 % slower, measured)
_VOICED_BLOCK = 64
_MINUTE_FRAMES = int(round(60 / _HOP_S))  # the quick check looks at each minute's loudest


def _db(power):
    return np.maximum(10.0 * np.log10(np.maximum(power, 1e-30)), _FLOOR_DB)


def _frame_layout(sr):
    length = max(1, int(round(_FRAME_S * sr)))
    hop = max(1, int(round(_HOP_S * sr)))
    lag_min = max(1, int(np.ceil(sr / _FMAX)))
    lag_max = int(np.floor(sr / _FMIN))
    return length, hop, lag_min, lag_max


def _frames(y, length, hop):
    """Frames of ``y`` (n_frames, length), without copying; a short clip is one padded frame."""
    if len(y) < length:
        y = np.pad(y, (0, length - len(y)))
    return np.lib.stride_tricks.sliding_window_view(y, length)[::hop]


@lru_cache(maxsize=8)
def _window_acf(length, lag_max):
    """Hann window, FFT size and the window's normalised autocorrelation (lags 0..lag_max+1)."""
    window = np.hanning(length)
    n_fft = scipy.fft.next_fast_len(2 * length, real=True)
    wspec = scipy.fft.rfft(window, n=n_fft)
    wacf = scipy.fft.irfft(np.abs(wspec) ** 2, n=n_fft)[: lag_max + 2]
    return window, n_fft, wacf / wacf[0]


def _frame_power(y, length, hop):
    """Mean square of each frame of :func:`_frames`, without copying the frames."""
    if len(y) < length:
        return np.array([np.sum(y * y) / length])
    n_frames = 1 + (len(y) - length) // hop
    if length == 2 * hop:  # the usual layout: a frame is two hop blocks
        blocks = np.square(y[: (n_frames + 1) * hop]).reshape(-1, hop).sum(axis=-1)
        return (blocks[:-1] + blocks[1:]) / length
    frames = _frames(y, length, hop)
    return np.mean(frames * frames, axis=-1)


def _voiced(frames, lag_min, lag_max):
    """Whether each frame is periodic with a period in [lag_min, lag_max] samples, and the period.

    Boersma's (Praat's) normalised autocorrelation: the autocorrelation of the
    Hann-windowed frame over its value at lag 0, divided by the window's own
    normalised autocorrelation (1 at the period of a perfectly periodic frame). It
    must have a local maximum of at least ``_VOICING`` inside the lag range: a
    maximum at the range's edge is the decay of low-frequency noise, not a period.
    """
    length = frames.shape[-1]
    if lag_max + 1 >= length or lag_min >= lag_max or not len(frames):
        # the rate cannot resolve a voice
        return np.zeros(len(frames), dtype=bool), np.zeros(len(frames), dtype=int)
    if len(frames) > _VOICED_BLOCK:
        # a block's arrays stay in the core's cache: faster, and two processes at once
        # wait less on memory; each frame's numbers are the same bits either way
        parts = [_voiced(frames[i : i + _VOICED_BLOCK], lag_min, lag_max)
                 for i in range(0, len(frames), _VOICED_BLOCK)]
        return np.concatenate([v for v, _ in parts]), np.concatenate([k for _, k in parts])
    window, n_fft, wacf = _window_acf(length, lag_max)
    x = (frames - frames.mean(axis=-1, keepdims=True)) * window
    spec = scipy.fft.rfft(x, n=n_fft, axis=-1)
    acf = scipy.fft.irfft(spec.real**2 + spec.imag**2, n=n_fft, axis=-1)[:, : lag_max + 2]
    zero = acf[:, :1]
    r = np.divide(acf, zero, out=np.zeros_like(acf), where=zero > 1e-20) / wacf
    k = np.arange(lag_min, lag_max + 1)
    is_peak = (r[:, k] > r[:, k - 1]) & (r[:, k] >= r[:, k + 1])
    height = np.where(is_peak, r[:, k], -np.inf)
    top = height.max(axis=-1)
    # the shortest period whose peak is nearly the highest: multiples of the period
    # peak as high, and picking among them at random would break the runs below
    first = np.argmax(height >= 0.9 * top[:, None], axis=-1)
    return top >= _VOICING, k[first]


def _sustained(voiced, lag):
    """Frames in runs of at least ``_MIN_RUN`` voiced frames of a steady period.

    A voice holds its pitch over several frames; noise that looks periodic in one
    frame (rumble, pink noise) does not in the next, at the same period.
    """
    steady = voiced[:-1] & voiced[1:] & (np.abs(np.diff(lag)) <= _STEADY * lag[:-1])
    edges = np.flatnonzero(np.diff(np.r_[0, steady.astype(np.int8), 0]))
    out = np.zeros(len(voiced), dtype=bool)
    for start, end in zip(edges[::2], edges[1::2]):  # steady pairs start..end-1
        if end - start + 1 >= _MIN_RUN:
            out[start : end + 1] = True
    return out


def _voiced_frames(frames, power, lag_min, lag_max, index=None):
    """Boolean mask of the sustained voiced frames, looking only at ``index`` if given."""
    audible = _db(power) > SILENCE_DBFS
    look = np.flatnonzero(audible) if index is None else index[audible[index]]
    voiced = np.zeros(len(frames), dtype=bool)
    lag = np.zeros(len(frames), dtype=int)
    voiced[look], lag[look] = _voiced(frames[look], lag_min, lag_max)
    return _sustained(voiced, lag)


def _measure(y, sr):
    """The six numbers of one clip (see :func:`assess_quality`) and its flag code."""
    if is_streamed(y):
        return _measure_stream(y, sr)
    y = np.asarray(y, dtype=np.float64)
    length, hop, lag_min, lag_max = _frame_layout(sr)
    frames = _frames(y, length, hop)
    power = _frame_power(y, length, hop)
    voiced = _voiced_frames(frames, power, lag_min, lag_max)
    return _quality_row(len(y), sr, float(np.max(np.abs(y))), float((y * y).mean()),
                        float(np.mean(np.abs(y) >= _CLIP_LEVEL)), power, voiced)


def _quality_row(n, sr, peak, mean_square, clipping, power, voiced):
    """The row of :func:`_measure` from the sample levels, frame powers and voiced frames."""
    duration = n / sr
    peak_db = float(_db(peak * peak))
    rms_db = float(_db(mean_square))
    order = np.sort(power)
    k = max(1, int(np.ceil(_QUIET_SHARE * len(order))))
    quiet, loud = order[:k].mean(), order[-k:].mean()
    snr = float(np.clip(10.0 * np.log10(max(loud, 1e-12) / max(quiet, 1e-12)), 0.0, _MAX_SNR_DB))
    voiced_fraction = float(voiced.mean())
    hop = _frame_layout(sr)[1]
    code = _flag_code(duration, peak_db, voiced.sum() * hop / sr)
    return duration, rms_db, peak_db, clipping, snr, voiced_fraction, code


def _flag_code(duration, peak_db, voiced_s):
    if duration < MIN_DURATION_S:
        return 1
    if peak_db < SILENCE_DBFS:
        return 2
    if voiced_s < MIN_VOICED_S:
        return 3
    return 0


def _quick_code(y, sr):
    """The flag code of one clip, looking for voicing in its loudest frames first.

    Speech is voiced in most of its loud frames, so a few of them settle "ok"
    without the autocorrelation of every frame; other clips get the full measure.
    """
    n = len(y)
    if n / sr < MIN_DURATION_S:
        return 1
    peak = float(np.max(np.abs(y)))
    if _db(peak * peak) < SILENCE_DBFS:
        return 2
    length, hop, lag_min, lag_max = _frame_layout(sr)
    y = np.asarray(y, dtype=np.float64)
    frames = _frames(y, length, hop)
    power = _frame_power(y, length, hop)
    need, near = _near_loudest(power, sr)
    if _voiced_frames(frames, power, lag_min, lag_max, near).sum() >= need:
        return 0
    return _measure(y, sr)[-1]


def _near_loudest(power, sr):
    """Voiced frames needed for "ok", and the loudest frames with their neighbours.

    That is where runs of voicing would be. The loudest frames of each minute are
    taken: in an hour-long recording the loudest few overall may all be one burst of
    noise. (Any choice gives the same flag: voicing found among them is voicing of
    the clip; only how often the full measure is needed depends on it.)
    """
    need = int(np.ceil(MIN_VOICED_S * sr / _frame_layout(sr)[1]))
    loudest = []
    for a in range(0, len(power), _MINUTE_FRAMES):
        p = power[a : a + _MINUTE_FRAMES]
        k = min(2 * need, len(p))
        loudest.append(a + np.argpartition(p, len(p) - k)[len(p) - k :])
    loudest = np.concatenate(loudest)
    return need, np.unique(np.clip(loudest[:, None] + np.arange(-2, 3), 0, len(power) - 1))


# -- long clips read block by block (StreamedClip): the same numbers in bounded memory ---
# The per-frame arrays (power, voicing) are kept whole: one value per 20 ms hop, 14 MB
# for 10 hours; the samples are seen one piece at a time.


class _SampleLevels:
    """Sample count, sum of squares, peak and clipped samples of the blocks it is given."""

    def __init__(self):
        self.n, self.sum_sq, self.peak, self.clipped = 0, 0.0, 0.0, 0

    def __call__(self, block):
        b = np.asarray(block, dtype=np.float64)
        a = np.abs(b)
        self.n += len(b)
        self.sum_sq += float(np.dot(b, b))
        self.peak = max(self.peak, float(a.max()))
        self.clipped += int(np.count_nonzero(a >= _CLIP_LEVEL))


def _stream_frames(clip, sr, caller, *, index=None, levels=None, voicing=True):
    """Frame powers and raw voicing (period, before the runs rule) of a streamed clip.

    One read of the clip. Voicing is computed for the audible frames, only those of
    ``index`` if given (the powers are then not returned: None), and not at all with
    ``voicing=False``.
    """
    length, hop, lag_min, lag_max = _frame_layout(sr)
    n_frames = frame_count(clip.n_samples, frame_length=length, hop_length=hop,
                           center=False, pad_short=True)
    # periods fit in int32: half the memory of the default int over hours of frames
    power = np.empty(n_frames) if index is None else None
    voiced = np.zeros(n_frames, dtype=bool)
    lag = np.zeros(n_frames, dtype=np.int32)
    for piece, t0 in clip_pieces(clip, caller, frame_length=length, hop_length=hop,
                                 center=False, pad_short=True, tap=levels):
        y = np.asarray(piece, dtype=np.float64)
        p = _frame_power(y, length, hop)
        if power is not None:
            power[t0 : t0 + len(p)] = p
        if not voicing:
            continue
        audible = _db(p) > SILENCE_DBFS
        if index is None:
            look = np.flatnonzero(audible)
        else:
            look = index[(index >= t0) & (index < t0 + len(p))] - t0
            look = look[audible[look]]
        voiced[t0 + look], lag[t0 + look] = _voiced(_frames(y, length, hop)[look],
                                                    lag_min, lag_max)
    return power, voiced, lag


def _measure_stream(clip, sr, caller="assess_quality"):
    """:func:`_measure` of a streamed clip, in one read."""
    levels = _SampleLevels()
    power, voiced, lag = _stream_frames(clip, sr, caller, levels=levels)
    return _quality_row(levels.n, sr, levels.peak, levels.sum_sq / max(levels.n, 1),
                        levels.clipped / max(levels.n, 1), power, _sustained(voiced, lag))


class _QuickCheck:
    """The first pass of :func:`_quick_code_stream` (sample levels and frame powers),
    from a streamed clip's samples given block by block, in order.

    It is a ``tap`` of :func:`~sklaudio.features._base.clip_pieces`, so that it rides
    on an extractor's own read. It keeps one number per frame and less than a frame of
    samples; the powers are those of the whole clip's frames (each frame's samples
    summed alike).
    """

    def __init__(self, n_samples, sr):
        self.n, self.sr = n_samples, sr
        self.length, self.hop = _frame_layout(sr)[:2]
        self.levels = _SampleLevels()
        self.power = np.empty(frame_count(n_samples, frame_length=self.length,
                                          hop_length=self.hop, center=False, pad_short=True))
        self.done = 0  # frames whose power is known
        self.carry = np.zeros(0)  # samples from the next frame's first on

    def __call__(self, block):
        self.levels(block)
        y = np.concatenate([self.carry, np.asarray(block, dtype=np.float64)])
        if len(y) >= self.length:
            n = 1 + (len(y) - self.length) // self.hop
            self.power[self.done : self.done + n] = _frame_power(
                y[: (n - 1) * self.hop + self.length], self.length, self.hop)
            self.done += n
            y = y[n * self.hop :]
        self.carry = y

    def complete(self):
        """Whether every sample came (so the powers and levels are the clip's)."""
        if self.levels.n == self.n and self.n < self.length:  # one frame, zero-padded
            self.power[:] = _frame_power(self.carry, self.length, self.hop)
            self.done = 1
        return self.levels.n == self.n and self.done == len(self.power)


def _quick_code_stream(clip, sr, caller, check=None):
    """:func:`_quick_code` of a streamed clip: two reads for speech (levels, then voicing).

    ``check``: a :class:`_QuickCheck` given the clip's samples by another read (an
    extractor's), if any: the first read is then saved.
    """
    if clip.n_samples / sr < MIN_DURATION_S:
        return 1
    if check is None or not check.complete():
        check = _QuickCheck(clip.n_samples, sr)
        for block in checked_blocks(clip, caller):
            check(block)
        check.complete()
    if _db(check.levels.peak ** 2) < SILENCE_DBFS:
        return 2
    need, near = _near_loudest(check.power, sr)
    _, voiced, lag = _stream_frames(clip, sr, caller, index=near)
    if _sustained(voiced, lag).sum() >= need:
        return 0
    return _measure_stream(clip, sr, caller)[-1]


# a FeatureUnion's extractors all check the same (possibly hours long) clip object:
# its flag is computed once
_STREAM_CODES = weakref.WeakKeyDictionary()


def _clip_code(y, sr, caller):
    if not is_streamed(y):
        return _quick_code(y, sr)
    codes = _STREAM_CODES.setdefault(y, {})
    if sr not in codes:
        codes[sr] = _quick_code_stream(y, sr, caller)
    return codes[sr]


def _as_clip_list(clips, caller):
    out, is_matrix = check_clips(clips, caller=caller, ensure_finite=False)
    return list(out) if is_matrix else out


def assess_quality(clips, sr=None):
    """Measure each clip and flag those that carry no usable speech.

    Parameters
    ----------
    clips : ndarray of shape (n_clips, n_samples) or sequence of 1-D ndarray
        Audio clips (a :class:`~sklaudio.utils.ClipArray` carries its rate).

    sr : number or None, default=None
        Sampling rate in Hz. None follows the rate the clips carry, else 22050.

    Returns
    -------
    quality : pandas.DataFrame of shape (n_clips, 7)
        One row per clip, in input order (the input's index for a DataFrame), with
        columns:

        - ``duration_s``: length in seconds;
        - ``rms_dbfs``, ``peak_dbfs``: RMS and peak level in dB relative to full
          scale 1.0, at least -120 (digital silence);
        - ``clipping_rate``: fraction of samples at ``|y| >= 0.999``;
        - ``snr_db``: signal-to-noise estimate, the power ratio of the loudest to
          the quietest tenth of the 40 ms frames, in [0, 120]. It needs pauses: a
          clip without any (a steady tone, noise alone) gets about 0; one with
          digitally silent pauses gets up to 120;
        - ``voiced_fraction``: fraction of 40 ms frames (hop 20 ms) above -60 dBFS
          whose normalised autocorrelation (Boersma's, as in Praat) has a peak of at
          least 0.5 at a period between 2 ms and 16.7 ms (a pitch of 60 to 500 Hz),
          in runs of at least 3 such frames whose period changes by at most 15 %
          from frame to frame (a voice holds its pitch; noise does not);
        - ``quality``: ``"too_short"`` under 0.1 s, else ``"silent"`` with a peak
          under -60 dBFS, else ``"no_voice"`` with under 0.1 s of voiced frames,
          else ``"ok"``.

    See Also
    --------
    AudioQuality : The same numbers as a feature extractor.
    abstain : Replace the predictions of flagged clips by NaN or a label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features import assess_quality
    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> vowel = 0.3 * np.sin(2 * np.pi * 150 * t) + 0.1 * np.sin(2 * np.pi * 300 * t)
    >>> noise = 0.1 * np.random.default_rng(0).standard_normal(sr)
    >>> q = assess_quality([vowel, np.zeros(sr), vowel[:100], noise], sr=sr)
    >>> q["quality"].tolist()
    ['ok', 'silent', 'too_short', 'no_voice']
    >>> q.loc[1, ["rms_dbfs", "peak_dbfs"]].tolist()
    [-120.0, -120.0]
    """
    sr = resolve_sr(sr, clips, caller="assess_quality")
    rows = [_measure(y, sr) for y in _as_clip_list(clips, "assess_quality")]
    index = clips.index if hasattr(clips, "iloc") else None
    frame = pd.DataFrame(rows, columns=list(COLUMNS), index=index)
    frame["quality"] = np.asarray(QUALITY_FLAGS, dtype=object)[frame["quality"].to_numpy(int)]
    return frame


@Substitution(**CLIP_FEATURES_DOCS)
class AudioQuality(ClipFeaturesMixin, BaseEstimator):
    """Per-clip quality measures, as features: level, clipping, SNR, voicing and a flag.

    One row per clip with the columns of :func:`assess_quality`. The last column,
    ``quality``, is the flag's code in :data:`QUALITY_FLAGS`: 0 ``"ok"``,
    1 ``"too_short"``, 2 ``"silent"``, 3 ``"no_voice"``; ``assess_quality`` gives the
    same table with the flag as text. Every value is finite, for any clip (silence
    is -120 dBFS, not ``-inf``). Unlike the other extractors it raises no quality
    warning: reporting quality is its job.

    Parameters
    ----------
    {sr}

    {n_jobs}

    {verbose}

    Attributes
    ----------
    {sr_}

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    assess_quality : The same table, with the flag as text.
    abstain : Replace the predictions of flagged clips by NaN or a label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features import AudioQuality
    >>> sr = 16000
    >>> vowel = 0.3 * np.sin(2 * np.pi * 150 * np.arange(sr) / sr)
    >>> aq = AudioQuality(sr=sr).fit([vowel])
    >>> list(aq.get_feature_names_out())
    ['duration_s', 'rms_dbfs', 'peak_dbfs', 'clipping_rate', 'snr_db', 'voiced_fraction', 'quality']
    >>> np.round(aq.transform([vowel, np.zeros(10)]), 1)
    array([[   1. ,  -13.5,  -10.5,    0. ,    0. ,    1. ,    0. ],
           [   0. , -120. , -120. ,    0. ,    0. ,    0. ,    1. ]])
    """

    _sklaudio_cacheable = True
    _sklaudio_quality_warning = False

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, *, sr=None, n_jobs=None, verbose=0):
        self.sr = sr
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _feature_names(self):
        return list(COLUMNS)

    def _extract_block(self, Y):
        return np.array([_measure(y, self.sr_) for y in Y], dtype=np.float64)

    def _extract_stream(self, clip):
        return np.array(_measure_stream(clip, self.sr_, "AudioQuality"), dtype=np.float64)


def abstain(predictions, quality, *, label="no_usable_audio"):
    """Withhold the predictions of clips whose quality is not ``"ok"``.

    Parameters
    ----------
    predictions : array-like of shape (n_clips,) or (n_clips, n_classes), or DataFrame
        A classifier's ``predict`` output (labels) or ``predict_proba`` output
        (probabilities), or a regressor's ``predict``, in the order of the clips.

    quality : DataFrame, Series or array-like of shape (n_clips,)
        The clips' flags: :func:`assess_quality`'s frame (its ``quality`` column is
        used), or the flags themselves (strings, or :data:`QUALITY_FLAGS` codes as
        in :class:`AudioQuality`'s last column).

    label : object, default="no_usable_audio"
        What replaces a label prediction of a flagged clip. Float predictions
        (probabilities, regressed values) get NaN instead.

    Returns
    -------
    predictions : ndarray or DataFrame
        A copy, same shape and order (a DataFrame keeps its index and columns):
        rows of flagged clips are NaN for float predictions, ``label`` for labels
        (the array then has dtype object).

    See Also
    --------
    assess_quality : Measure and flag each clip.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features import abstain
    >>> proba = np.array([[0.9, 0.1], [1.0, 0.0]])
    >>> abstain(proba, ["ok", "silent"])
    array([[0.9, 0.1],
           [nan, nan]])
    >>> abstain(np.array(["female", "male"]), ["ok", "silent"])
    array(['female', 'no_usable_audio'], dtype=object)
    """
    flags = _flags_of(quality)
    bad = flags != "ok"
    n = predictions.shape[0] if hasattr(predictions, "shape") else len(predictions)
    if len(flags) != n:
        raise ValueError(
            f"abstain got {n} predictions but {len(flags)} quality flags; pass the "
            "quality of the same clips, in the same order."
        )
    if hasattr(predictions, "iloc"):  # DataFrame or Series: keep index and columns
        values = abstain(predictions.to_numpy(), flags, label=label)
        if values.ndim == 1:
            return pd.Series(values, index=predictions.index, name=predictions.name)
        return pd.DataFrame(values, index=predictions.index, columns=predictions.columns)
    out = np.asarray(predictions)
    if out.dtype.kind in "fc":
        out = out.copy()
        out[bad] = np.nan
        return out
    out = out.astype(object)  # labels (str, int, bool): room for `label`
    out[bad] = label
    return out


def _flags_of(quality):
    if hasattr(quality, "columns"):
        if "quality" not in quality.columns:
            raise ValueError(
                "abstain got a DataFrame without a 'quality' column; pass "
                "assess_quality(clips, sr) or the flags themselves."
            )
        quality = quality["quality"]
    flags = np.asarray(quality)
    if flags.ndim != 1:
        raise ValueError(f"quality flags must be one per clip (1-D); got shape {flags.shape}.")
    if flags.dtype.kind in "iuf":
        codes = flags.astype(int)
        if not np.array_equal(codes, flags) or codes.min(initial=0) < 0 or codes.max(
                initial=0) >= len(QUALITY_FLAGS):
            raise ValueError(
                f"quality codes must be integers in 0..{len(QUALITY_FLAGS) - 1} "
                f"({', '.join(QUALITY_FLAGS)}); got {np.unique(flags)[:10]}."
            )
        return np.asarray(QUALITY_FLAGS, dtype=object)[codes]
    unknown = sorted(set(flags.tolist()) - set(QUALITY_FLAGS))
    if unknown:
        raise ValueError(f"unknown quality flag(s) {unknown[:10]}; expected {QUALITY_FLAGS}.")
    return flags.astype(object)


# -- the quality warning of every clip-level extractor (wired in by _base.py) ------------


def warn_on_bad_clips(estimator, X, *, stacklevel, codes=None):
    """Raise one AudioQualityWarning naming the clips of ``X`` whose quality is not "ok".

    ``codes``: the flag codes already measured (-1 where not), e.g. by the
    extractor's own parallel tasks; the others are measured here.
    """
    caller = type(estimator).__name__
    clips = _as_clip_list(X, caller)
    sr = getattr(estimator, "sr_", None) or resolve_sr(None, X, caller=caller)
    codes = np.full(len(clips), -1) if codes is None else np.array(codes)
    todo = np.flatnonzero(codes < 0)
    for i in todo:
        if is_streamed(clips[i]):
            codes[i] = _clip_code(clips[i], sr, caller)
    # measured in parallel like the features (n_jobs): serially here, it would take as
    # long as a cheap extractor's whole work and cap its parallel speed-up
    plain = [i for i in todo if not is_streamed(clips[i])]
    if plain:
        codes[plain] = map_clips(_quick_code, [clips[i] for i in plain],
                                 n_jobs=getattr(estimator, "n_jobs", None), sr=sr)
    bad = np.flatnonzero(codes)
    if not bad.size:
        return
    names = list(X.index) if hasattr(X, "iloc") else None
    shown = ", ".join(
        f"{'clip ' + str(i) if names is None else repr(names[i])} ({QUALITY_FLAGS[codes[i]]})"
        for i in bad[:20]
    )
    more = f" and {bad.size - 20} more" if bad.size > 20 else ""
    # the same text from every extractor, so a FeatureUnion's steps show it once
    warnings.warn(
        f"{bad.size} of {len(clips)} clip(s) carry no usable speech, and their features "
        f"describe nothing: {shown}{more}. Inspect them with "
        "sklaudio.features.assess_quality(X, sr); drop them, or withhold their predictions "
        "with sklaudio.features.abstain(...). (too_short: under 0.1 s; silent: peak under "
        "-60 dBFS; no_voice: under 0.1 s of voiced frames.)",
        AudioQualityWarning,
        stacklevel=stacklevel + 1,
    )
