"""Spectral-gating noise reduction (stationary and non-stationary)."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter
from scipy.special import expit
from sklearn.base import BaseEstimator

from sklaudio.exceptions import ParameterError
from sklaudio.utils import _dsp
from sklaudio.utils._audio import (
    AudioTransformerMixin,
    check_clips,
    map_clips,
    resolve_sr,
    transform_sr,
    validate_clips,
    wrap_clips,
)
from sklaudio.utils._compat import Interval, StrOptions, _fit_context
from sklaudio.utils._docstring import AUDIO_STEP_DOCS, Substitution
from sklaudio.utils._stream import checked, frame_chunks, is_streamed, spill

# Rows of a clip matrix gated in one go: bounds the memory of the batched STFT
# (about 2**21 samples -> ~100 MB of complex64 spectra at a hop of n_fft // 4).
_BLOCK_SAMPLES = 2**21
# Floor of the dB spectrogram below each clip's peak (librosa's top_db=80 habit).
_TOP_DB = 80.0
# Non-stationary noise level: pre-smoothing (s) before the running minimum, and the
# factor from a running minimum of noise magnitudes to their mean (about 1.5 for
# Rayleigh-distributed magnitudes; 2.5 also covers the pre-smoothing and trades a
# little speech at 0 dB SNR for a clear gain there), and the minimum window in units
# of time_constant_s. Tuned on librispeech-251 (see benchmarks/bench_preprocessing.py).
_PRE_SMOOTH_S = 0.05
_MIN_BIAS = 2.5
_MIN_WINDOW = 2.0


# The gate's STFT: the core's centred frames with the end zero-padded (pad_end) so that
# every sample has full overlap; the inverse reconstructs the input to float precision
# for any hop not larger than the window.
def stft_layout(n_samples, *, win_length, hop_length):
    """Left padding, padded length and number of frames for a clip of ``n_samples``."""
    left = win_length // 2
    n_frames = _dsp.frame_count(n_samples, frame_length=win_length, hop_length=hop_length,
                                center=True, pad_end=True)
    return left, win_length + (n_frames - 1) * hop_length, n_frames


def stft(y, *, n_fft, win_length, hop_length, window, center=True):
    """Complex STFT of the last axis: shape ``(..., 1 + n_fft // 2, n_frames)``."""
    return _dsp.stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                     window=window, center=center, pad_end=center)


def istft(spec, *, n_samples, n_fft, win_length, hop_length, window):
    """Inverse of :func:`stft`: overlap-add back to ``(..., n_samples)``."""
    return _dsp.istft(spec, hop_length=hop_length, win_length=win_length, n_fft=n_fft,
                      window=window, center=True, length=n_samples)


def hann(win_length, dtype):
    """Periodic Hann window (scipy's and librosa's STFT default)."""
    return _dsp.stft_window("hann", win_length, win_length).astype(dtype)


def _half_widths(sr, *, n_fft, hop_length, freq_mask_smooth_hz, time_mask_smooth_ms):
    """Half-widths (bins, frames) of the triangular mask-smoothing kernel."""
    n_freq = 0 if freq_mask_smooth_hz is None else int(freq_mask_smooth_hz * n_fft / (2 * sr))
    n_time = (0 if time_mask_smooth_ms is None
              else int(time_mask_smooth_ms * sr / (1000 * hop_length)))
    return n_freq, n_time


def _triangle_smooth(mask, half_width, axis):
    """Convolve with a normalised triangle of half-width ``half_width`` along ``axis``.

    A triangle of half-width h is the self-convolution of a box of h + 1 samples, so two
    running means give it at O(1) cost per element whatever h is. Edges repeat the
    nearest value, so the mask is not pulled down at the first and last frames or bins
    (zero padding would attenuate the clip's onset and the DC/Nyquist bands).
    """
    if half_width < 1:
        return mask
    size = half_width + 1
    mask = uniform_filter1d(mask, size, axis=axis, mode="nearest")
    # an even box is off-centre by half a sample: shift the second pass the other way
    origin = -1 if size % 2 == 0 else 0
    return uniform_filter1d(mask, size, axis=axis, mode="nearest", origin=origin)


def _interior_frames(n_samples, *, win_length, hop_length):
    """Indices of frames that do not touch the STFT's zero padding (may be empty)."""
    left, _, n_frames = stft_layout(n_samples, win_length=win_length, hop_length=hop_length)
    starts = np.arange(n_frames) * hop_length
    return np.flatnonzero((starts >= left) & (starts + win_length <= left + n_samples))


def _to_db(mag, peak=None):
    """dB magnitude with a floor ``_TOP_DB`` below each clip's peak; mag is (B, F, T).

    ``peak`` (dB) is given when ``mag`` is a part of a longer clip.
    """
    tiny = np.finfo(mag.dtype).tiny
    db = 20.0 * np.log10(np.maximum(mag, tiny))
    if peak is None:
        peak = db.max(axis=(-2, -1), keepdims=True)
    return np.maximum(db, peak - _TOP_DB)


def _noise_threshold(y_noise, *, n_fft, win_length, hop_length, window, n_std):
    """Per-bin dB threshold, shape (F, 1), from a noise recording."""
    spec = stft(y_noise[np.newaxis], n_fft=n_fft, win_length=win_length,
                hop_length=hop_length, window=window)
    db = _to_db(np.abs(spec))[0]
    inner = _interior_frames(len(y_noise), win_length=win_length, hop_length=hop_length)
    if inner.size:
        db = db[:, inner]
    return _mean_std_threshold(db, n_std)


def _mean_std_threshold(db, n_std):
    """Per-bin mean + n_std standard deviations of ``db`` (..., F, T), shape (..., F, 1).

    In float64, so that a long clip's statistics summed block by block give the same
    threshold (a bin at the threshold would otherwise flip with the summation order).
    """
    mean = db.mean(axis=-1, dtype=np.float64)
    std = db.std(axis=-1, dtype=np.float64)
    return (mean + n_std * std)[..., np.newaxis]


def _stationary_mask(mag, *, n_samples, win_length, hop_length, noise_thresh, n_std,
                     noise_quantile, peak_db=None):
    """Binary mask: bins louder than a per-bin noise threshold."""
    db = _to_db(mag, peak_db)
    if noise_thresh is None:
        # the quietest frames of each clip stand in for a noise recording
        candidates = _interior_frames(n_samples, win_length=win_length, hop_length=hop_length)
        if candidates.size == 0:
            candidates = np.arange(db.shape[-1])
        energy = np.sum(mag[..., candidates] ** 2, axis=1)  # (B, n_candidates)
        k = max(1, int(np.ceil(noise_quantile * candidates.size)))
        quiet = np.argpartition(energy, k - 1, axis=-1)[:, :k]
        noise_db = np.take_along_axis(db, candidates[quiet][:, np.newaxis, :], axis=-1)
        noise_thresh = _mean_std_threshold(noise_db, n_std)
    return (db > noise_thresh).astype(mag.dtype)


def _one_pole_coef(time_constant_s, sr, hop_length):
    """Coefficient b of the smoother y[n] = b x[n] + (1 - b) y[n-1] for a time constant.

    b is the positive root of t^2 b^2 + b - 1 = 0 with t the time constant in frames,
    i.e. about 1 / t for long time constants.
    """
    t = max(time_constant_s * sr / hop_length, 1e-3)
    return (np.sqrt(1.0 + 4.0 * t**2) - 1.0) / (2.0 * t**2)


def _smooth_time(x, b):
    """Zero-phase one-pole smoothing along the last axis (forward, then backward).

    Each pass starts in steady state on its first value, so the ends are not pulled
    towards zero.
    """
    num = np.array([b], dtype=x.dtype)
    den = np.array([1.0, b - 1.0], dtype=x.dtype)
    fwd = lfilter(num, den, x, axis=-1, zi=(1 - b) * x[..., :1])[0]
    bwd = lfilter(num, den, fwd[..., ::-1], axis=-1, zi=(1 - b) * fwd[..., -1:])[0]
    return bwd[..., ::-1]


def _noise_level(mag, *, sr, hop_length, time_constant_s):
    """Slowly varying noise magnitude per bin, by minimum statistics.

    The magnitude is averaged over ``_PRE_SMOOTH_S``, its running minimum is taken over
    ``_MIN_WINDOW * time_constant_s`` (speech leaves gaps in every band within a few seconds, noise
    does not), smoothed over a quarter of that, and scaled by ``_MIN_BIAS`` because a
    minimum underestimates the mean noise level. A plain time-smoothed mean (as in
    noisereduce) is pulled up by the speech itself and then gates speech away.
    """
    # the level varies over seconds: track it on blocks of `pre` frames and expand back,
    # at 1/pre of the cost. Each block keeps the *minimum* of the running mean inside
    # it, so the tracked minimum is the full-rate one. (Block means instead, b9d2643,
    # sat higher and gated more speech: speechocean762 gender 0.775 -> 0.740 and age
    # groups 0.519 -> 0.499 in nested CV over 3 seeds.)
    pre = max(1, int(round(_PRE_SMOOTH_S * sr / hop_length)))
    n_frames = mag.shape[-1]
    smooth = uniform_filter1d(mag, pre, axis=-1, mode="nearest")
    n_full = n_frames // pre
    level = smooth[..., 0 : n_full * pre : pre].copy()
    for k in range(1, pre):  # strided minima beat a reduction over a short last axis
        np.minimum(level, smooth[..., k : n_full * pre : pre], out=level)
    if n_full * pre < n_frames:
        level = np.concatenate([level, smooth[..., n_full * pre :].min(axis=-1, keepdims=True)],
                               axis=-1)
    width = max(1, int(round(_MIN_WINDOW * time_constant_s * sr / (hop_length * pre))))
    level = minimum_filter1d(level, width, axis=-1, mode="nearest")
    level = _smooth_time(level, _one_pole_coef(time_constant_s / 4, sr, hop_length * pre))
    if pre > 1:  # back to frames; the level is smooth over ~0.5 s, steps of pre frames do not show
        level = np.repeat(level, pre, axis=-1)[..., :n_frames]
    return _MIN_BIAS * level


def _nonstationary_mask(mag, *, sr, hop_length, time_constant_s, thresh_n_mult, slope):
    """Soft mask: how far each bin rises above its slowly varying noise level."""
    level = _noise_level(mag, sr=sr, hop_length=hop_length, time_constant_s=time_constant_s)
    level = np.maximum(level, np.finfo(mag.dtype).tiny)
    # digital silence has a level of `tiny`: a bin above it overflows to inf, which the
    # sigmoid maps to 1 (kept), as it should
    with np.errstate(over="ignore"):
        ratio = np.divide(mag, level, out=level)  # in place: these arrays are large
        ratio *= slope
    ratio -= slope * (1.0 + thresh_n_mult)
    return expit(ratio, out=ratio)


def _gate_block(Y, *, sr, stationary, noise_thresh, n_std, noise_quantile, prop_decrease,
                time_constant_s, smooth_bins, smooth_frames, thresh_n_mult, slope, n_fft,
                win_length, hop_length, peak_db=None):
    """Denoise the rows of ``Y`` (n_rows, n_samples); returns an array of Y's dtype."""
    n_samples = Y.shape[-1]
    window = hann(win_length, Y.dtype)
    spec = stft(Y, n_fft=n_fft, win_length=win_length, hop_length=hop_length, window=window)
    # time-contiguous magnitudes: the smoothers below run along time
    mag = np.ascontiguousarray(np.abs(spec))
    if stationary:
        mask = _stationary_mask(mag, n_samples=n_samples, win_length=win_length,
                                hop_length=hop_length, noise_thresh=noise_thresh, n_std=n_std,
                                noise_quantile=noise_quantile, peak_db=peak_db)
    else:
        mask = _nonstationary_mask(mag, sr=sr, hop_length=hop_length,
                                   time_constant_s=time_constant_s,
                                   thresh_n_mult=thresh_n_mult, slope=slope)
    # smoothing fills holes and softens edges but never lowers a bin the gate keeps:
    # averaging would otherwise erase isolated kept bins such as speech harmonics
    smoothed = _triangle_smooth(mask, smooth_bins, axis=-2)
    smoothed = _triangle_smooth(smoothed, smooth_frames, axis=-1)
    mask = np.maximum(mask, smoothed)
    if prop_decrease != 1.0:
        mask = 1.0 - prop_decrease * (1.0 - mask)
    spec *= mask
    out = istft(spec, n_samples=n_samples, n_fft=n_fft, win_length=win_length,
                hop_length=hop_length, window=window)
    return out.astype(Y.dtype, copy=False)


def _gate_clip(y, **params):
    return _gate_block(y[np.newaxis], **params)[0]


# ------------------------------------------------------------------ long (streamed) clips
# A streamed clip is gated in windows: a core of about _CORE_SAMPLES samples with
# `context` samples of the clip on each side, of which only the core's output is kept.
# Every computation of the gate is local in time (the STFT frames, the running mean and
# minimum of the noise level, the mask smoothing) except the forward-backward one-pole
# smoother of the level, whose start-up error decays as (1 - b) ** n over n steps: the
# context covers the local supports plus n steps with (1 - b) ** n <= _CONVERGED, so a
# core's output equals the whole clip's to float rounding.
_CORE_SAMPLES = 2**21
_CONVERGED = 1e-10


def _stream_geometry(sr, *, stationary, n_fft, hop_length, time_constant_s, smooth_frames):
    """(unit, context) in samples: cores start at multiples of ``unit`` (whole frames and
    whole blocks of the level tracker), ``context`` samples of overlap on each side."""
    pre = max(1, int(round(_PRE_SMOOTH_S * sr / hop_length)))
    unit = hop_length * pre
    frames = -(-n_fft // hop_length) + 2 * smooth_frames + 2  # STFT edges, mask smoothing
    if not stationary:
        width = max(1, int(round(_MIN_WINDOW * time_constant_s * sr / (hop_length * pre))))
        b = _one_pole_coef(time_constant_s / 4, sr, hop_length * pre)
        n_iir = int(np.ceil(np.log(_CONVERGED) / np.log1p(-b))) if b < 1 else 0
        frames += pre * (width + n_iir + 3)
    return unit, -(-frames * hop_length // unit) * unit


def _gate_windows(clip, *, core, context, **params):
    """The gated clip, core by core (``clip`` is a checked StreamedClip)."""
    n = clip.n_samples
    blocks = clip.blocks(max(core, 1 << 16))
    buf, buf_start = np.zeros(0, clip.dtype), 0
    for a in range(0, n, core):
        b = min(n, a + core)
        lo, hi = max(0, a - context), min(n, b + context)
        parts = [buf]
        have = buf_start + len(buf)
        while have < hi:
            parts.append(next(blocks))
            have += len(parts[-1])
        buf = np.concatenate(parts) if len(parts) > 1 else buf
        out = _gate_block(buf[np.newaxis, lo - buf_start : hi - buf_start], **params)[0]
        yield out[a - lo : b - lo]
        keep = max(0, b - context)  # the next window's start
        buf, buf_start = buf[keep - buf_start :], keep


def _stream_spectra(clip, *, n_fft, win_length, hop_length, window):
    """(magnitudes (1, F, k), first frame) of the whole clip's gate STFT, piece by piece."""
    for piece, t0 in frame_chunks(clip, frame_length=n_fft, hop_length=hop_length, center=True,
                                  pad_end=True, frames_per_chunk=2048):
        spec = stft(piece[np.newaxis], n_fft=n_fft, win_length=win_length,
                    hop_length=hop_length, window=window, center=False)
        yield np.ascontiguousarray(np.abs(spec)), t0  # the layout _gate_block uses


def _stream_stationary(clip, *, noise_thresh, n_std, noise_quantile, n_fft, win_length,
                       hop_length):
    """The whole clip's (peak dB, noise threshold) for the stationary gate.

    One pass for the peak and the frame energies, and, without a noise recording, a
    second one for the dB statistics of the quietest frames.
    """
    window = hann(win_length, clip.dtype)
    geometry = dict(n_fft=n_fft, win_length=win_length, hop_length=hop_length, window=window)
    tiny = np.finfo(clip.dtype).tiny
    peak = np.zeros(1, clip.dtype)
    energy = []
    for mag, _ in _stream_spectra(clip, **geometry):
        peak = np.maximum(peak, mag.max())
        if noise_thresh is None:
            energy.append(np.sum(mag**2, axis=1)[0])
    peak_db = (20.0 * np.log10(np.maximum(peak, tiny)))[0]  # as _to_db computes it
    if noise_thresh is not None:
        return peak_db, noise_thresh
    energy = np.concatenate(energy)
    candidates = _interior_frames(clip.n_samples, win_length=win_length, hop_length=hop_length)
    if candidates.size == 0:
        candidates = np.arange(len(energy))
    k = max(1, int(np.ceil(noise_quantile * candidates.size)))
    quiet = np.zeros(len(energy), bool)
    quiet[candidates[np.argpartition(energy[candidates], k - 1)[:k]]] = True
    total = 0.0
    total_sq = 0.0
    for mag, t0 in _stream_spectra(clip, **geometry):
        pick = quiet[t0 : t0 + mag.shape[-1]]
        if pick.any():
            db = _to_db(mag[..., pick], peak_db)[0].astype(np.float64)
            total = total + db.sum(axis=-1)
            total_sq = total_sq + (db**2).sum(axis=-1)
    mean = total / k
    std = np.sqrt(np.maximum(total_sq / k - mean**2, 0.0))
    return peak_db, (mean + n_std * std)[:, np.newaxis]


def _gate_stream(clip, *, caller, core=None, **params):
    """The gated ``clip`` (a StreamedClip) as a StreamedClip, computed once into a
    temporary file (later steps read it once per feature extractor)."""
    clip = checked(clip, caller)
    unit, context = _stream_geometry(
        params["sr"], stationary=params["stationary"], n_fft=params["n_fft"],
        hop_length=params["hop_length"], time_constant_s=params["time_constant_s"],
        smooth_frames=params["smooth_frames"])
    if params["stationary"]:
        params["peak_db"], params["noise_thresh"] = _stream_stationary(
            clip, noise_thresh=params["noise_thresh"], n_std=params["n_std"],
            noise_quantile=params["noise_quantile"], n_fft=params["n_fft"],
            win_length=params["win_length"], hop_length=params["hop_length"])
    core = _CORE_SAMPLES if core is None else core
    core = max(unit, core // unit * unit)
    return spill(_gate_windows(clip, core=core, context=context, **params), sr=clip.sr,
                 n_samples=clip.n_samples, dtype=clip.dtype, name=clip.name)


class Denoiser(AudioTransformerMixin, BaseEstimator):
    """Reduce background noise by spectral gating.

    Each clip's short-time spectrum is compared with a noise level, bin by bin; a mask
    keeps the bins above it and attenuates the rest, is smoothed over frequency and
    time, and is applied before the inverse STFT. Two noise models:

    - ``method="nonstationary"`` (default): the noise level of each bin is tracked over time
      by minimum statistics (the running minimum over ``time_constant_s`` of its
      smoothed magnitude, smoothed again by a forward-backward one-pole filter); a bin
      is kept by a sigmoid of how many times it rises above that level. Follows noise
      whose level drifts.
    - ``method="stationary"``: a fixed per-bin threshold, mean + ``n_std_thresh_stationary``
      standard deviations of the dB spectrum of ``y_noise`` or, without it, of each
      clip's quietest frames; the mask is binary before smoothing.

    The algorithm follows ``noisereduce.reduce_noise`` (Sainburg et al.), reimplemented
    on batched numpy STFTs (a matrix of clips is processed in one pass), with two
    changes that keep speech intact: the non-stationary noise level is a running
    minimum rather than a running mean (which speech itself raises), and mask
    smoothing never lowers a bin the gate keeps.

    Parameters
    ----------
    sr : number or None, default=None
        Sampling rate of the clips in Hz. None follows the rate the clips carry in
        :term:`fit` (a :class:`~sklaudio.utils.ClipArray`), else librosa's 22050. A
        value that differs from the carried rate raises. In ``transform``, plain arrays
        (no carried rate) are taken to be at the rate resolved in ``fit`` (``sr_``),
        and clips carrying another rate raise.

    method : {"nonstationary", "stationary"}, default="nonstationary"
        The noise model: a noise level tracked over time per frequency bin, or a fixed
        threshold per bin.

    stationary : bool, default="deprecated"
        Deprecated, use ``method``: ``True`` is ``method="stationary"``, ``False``
        ``method="nonstationary"``. Setting it raises a FutureWarning.

    y_noise : array-like of shape (n_noise_samples,) or None, default=None
        A recording of the noise alone, at the clips' rate, for ``method="stationary"``.
        None estimates the noise from each clip's quietest frames (see
        ``noise_quantile``). Ignored when ``method="nonstationary"``.

    n_std_thresh_stationary : float, default=1.5
        Standard deviations above the mean noise level (dB) at which a bin counts as
        signal, for ``method="stationary"``.

    noise_quantile : float in (0, 1], default=0.1
        Fraction of each clip's quietest frames (lowest energy) used as the noise
        sample when ``method="stationary"`` and ``y_noise`` is None. Not in noisereduce,
        which uses the whole clip and so puts the threshold inside speech.

    prop_decrease : float in [0, 1], default=1.0
        How much of the noise to remove: 1 applies the full mask, 0 returns the input
        unchanged (exactly: no STFT round trip).

    time_constant_s : float, default=2.0
        Time scale in seconds of the noise level, for ``method="nonstationary"``: the level
        is the running minimum over ``2 * time_constant_s`` (which should span a
        pause in the speech), smoothed over ``time_constant_s / 4``.

    freq_mask_smooth_hz : float or None, default=500
        Width in Hz of the triangular kernel that smooths the mask over frequency
        (half-width ``int(freq_mask_smooth_hz * n_fft / (2 * sr))`` bins, as in
        noisereduce). None, or a width under two bins, disables it. Smoothing only
        raises the mask (the result is the larger of the raw and smoothed masks).

    time_mask_smooth_ms : float or None, default=50
        Half-width in ms of the triangular kernel that smooths the mask over time
        (``int(time_mask_smooth_ms * sr / (1000 * hop_length))`` frames, as in
        noisereduce). None, or less than one hop, disables it.

    thresh_n_mult_nonstationary : float, default=2
        A bin is half-kept when its magnitude is ``1 + thresh_n_mult_nonstationary``
        times its noise level, for ``method="nonstationary"``.

    sigmoid_slope_nonstationary : float, default=10
        Slope of that sigmoid: larger is closer to a hard gate.

    n_fft : int, default=1024
        FFT length. Clips shorter than ``n_fft`` are zero-padded internally and
        returned at their own length.

    win_length : int or None, default=None
        Window length (Hann), at most ``n_fft``. None means ``n_fft``.

    hop_length : int or None, default=None
        Samples between frames, at most ``win_length``. None means ``win_length // 4``.

    n_jobs : int or None, default=None
        Parallel jobs over clips (or blocks of rows of a matrix), joblib's meaning.

    verbose : int, default=0
        Print a progress line when > 0.

    Attributes
    ----------
    sr_ : int or float
        Sampling rate resolved in :term:`fit`, used for plain arrays in ``transform``.

    n_features_in_ : int
        Clip length seen in :term:`fit`, when fitted on a matrix.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :term:`fit`, when fitted on a DataFrame of string columns.

    See Also
    --------
    Trimmer : Trim silences, drop head/tail, fix the duration.
    noisereduce.reduce_noise : The reference implementation of spectral gating.

    Notes
    -----
    The Denoiser is stateless: ``fit`` only validates and records the input width and
    the sampling rate, and ``transform`` works without it (then following ``sr`` as
    in ``fit``) (``y_noise`` statistics are cheap and recomputed at
    each call). Output has the input's length to the sample, its dtype (float32 stays
    float32; integer PCM becomes float32) and its form: a matrix stays a matrix, a list
    of clips stays an object :class:`~sklaudio.utils.ClipArray` in the same order. An
    all-zero clip comes back as zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.preprocessing import Denoiser
    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> rng = np.random.default_rng(0)
    >>> tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    >>> X = (tone + 0.05 * rng.standard_normal(sr))[np.newaxis].astype(np.float32)
    >>> noise_only = 0.05 * rng.standard_normal(sr)
    >>> Xd = Denoiser(sr=sr, method="stationary", y_noise=noise_only).fit_transform(X)
    >>> Xd.shape, Xd.dtype, Xd.sr
    ((1, 16000), dtype('float32'), 16000)
    >>> def snr(y):
    ...     return 10 * np.log10(np.sum(tone**2) / np.sum((y - tone) ** 2))
    >>> print(f"SNR {snr(X[0]):.0f} dB -> {snr(Xd[0]):.0f} dB")
    SNR 17 dB -> 28 dB
    """

    # stateless and deterministic: a cached search may run it once for all folds
    _sklaudio_cacheable = True

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "method": [StrOptions({"nonstationary", "stationary"})],
        "stationary": ["boolean", StrOptions({"deprecated"})],
        "y_noise": ["array-like", None],
        "n_std_thresh_stationary": [Interval(Real, None, None, closed="neither")],
        "noise_quantile": [Interval(Real, 0, 1, closed="right")],
        "prop_decrease": [Interval(Real, 0, 1, closed="both")],
        "time_constant_s": [Interval(Real, 0, None, closed="neither")],
        "freq_mask_smooth_hz": [Interval(Real, 0, None, closed="left"), None],
        "time_mask_smooth_ms": [Interval(Real, 0, None, closed="left"), None],
        "thresh_n_mult_nonstationary": [Interval(Real, None, None, closed="neither")],
        "sigmoid_slope_nonstationary": [Interval(Real, 0, None, closed="neither")],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "hop_length": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sr=None,
        method="nonstationary",
        stationary="deprecated",
        y_noise=None,
        n_std_thresh_stationary=1.5,
        noise_quantile=0.1,
        prop_decrease=1.0,
        time_constant_s=2.0,
        freq_mask_smooth_hz=500,
        time_mask_smooth_ms=50,
        thresh_n_mult_nonstationary=2,
        sigmoid_slope_nonstationary=10,
        n_fft=1024,
        win_length=None,
        hop_length=None,
        n_jobs=None,
        verbose=0,
    ):
        self.sr = sr
        self.method = method
        self.stationary = stationary
        self.y_noise = y_noise
        self.n_std_thresh_stationary = n_std_thresh_stationary
        self.noise_quantile = noise_quantile
        self.prop_decrease = prop_decrease
        self.time_constant_s = time_constant_s
        self.freq_mask_smooth_hz = freq_mask_smooth_hz
        self.time_mask_smooth_ms = time_mask_smooth_ms
        self.thresh_n_mult_nonstationary = thresh_n_mult_nonstationary
        self.sigmoid_slope_nonstationary = sigmoid_slope_nonstationary
        self.n_fft = n_fft
        self.win_length = win_length
        self.hop_length = hop_length
        self.n_jobs = n_jobs
        self.verbose = verbose

    @Substitution(**AUDIO_STEP_DOCS)
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the clips; nothing is learned.

        Parameters
        ----------
        {fit_X_y}

        Returns
        -------
        self : Denoiser
            The estimator.
        """
        validate_clips(self, X, reset=True)
        self.sr_ = resolve_sr(self.sr, X, caller=type(self).__name__)
        self._method()
        self._frame_settings()
        return self

    def transform(self, X):
        """Denoise each clip.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D arrays
            The clips. Integer PCM is scaled to float32 in [-1, 1].

        Returns
        -------
        X_denoised : ClipArray
            The denoised clips, same number, order, lengths and dtype, carrying ``sr``.
        """
        self._validate_params()
        clips, is_matrix = validate_clips(self, X, reset=False)
        sr = transform_sr(self, X)
        stationary = self._method() == "stationary"
        if self.prop_decrease == 0:
            out = clips.copy() if is_matrix else [c if is_streamed(c) else c.copy()
                                                  for c in clips]
            return self._wrap_output(wrap_clips(out, sr, as_matrix=is_matrix), sr, X)
        n_fft, win_length, hop_length = self._frame_settings()
        smooth_bins, smooth_frames = _half_widths(
            sr, n_fft=n_fft, hop_length=hop_length,
            freq_mask_smooth_hz=self.freq_mask_smooth_hz,
            time_mask_smooth_ms=self.time_mask_smooth_ms,
        )
        params = dict(
            sr=sr, stationary=stationary, noise_thresh=None,
            n_std=self.n_std_thresh_stationary, noise_quantile=self.noise_quantile,
            prop_decrease=float(self.prop_decrease), time_constant_s=self.time_constant_s,
            smooth_bins=smooth_bins, smooth_frames=smooth_frames,
            thresh_n_mult=self.thresh_n_mult_nonstationary,
            slope=self.sigmoid_slope_nonstationary,
            n_fft=n_fft, win_length=win_length, hop_length=hop_length,
        )
        if stationary and self.y_noise is not None:
            params["noise_thresh"] = self._noise_threshold(sr, n_fft, win_length, hop_length)
        if is_matrix:
            rows = max(1, _BLOCK_SAMPLES // clips.shape[1])
            blocks = [clips[i : i + rows] for i in range(0, clips.shape[0], rows)]
            done = map_clips(_gate_block, blocks, n_jobs=self.n_jobs, verbose=self.verbose,
                             desc="Denoiser", **params)
            out = np.concatenate(done, axis=0)
        else:
            # a long clip is gated window by window (with its own passes), the others
            # whole and in parallel
            short = [c for c in clips if not is_streamed(c)]
            done = iter(map_clips(_gate_clip, short, n_jobs=self.n_jobs, verbose=self.verbose,
                                  desc="Denoiser", **params))
            out = [_gate_stream(c, caller="Denoiser", **params) if is_streamed(c) else next(done)
                   for c in clips]
        return self._wrap_output(wrap_clips(out, sr, as_matrix=is_matrix), sr, X)

    def _method(self):
        """The noise model, from ``method`` or the deprecated ``stationary``."""
        if isinstance(self.stationary, str):  # "deprecated": not set
            return self.method
        old = "stationary" if self.stationary else "nonstationary"
        if self.method != "nonstationary" and self.method != old:
            raise ParameterError(
                f"Denoiser got method={self.method!r} and stationary={self.stationary}, "
                "which disagree. Drop stationary (deprecated) and keep method."
            )
        warnings.warn(
            f"Denoiser(stationary={self.stationary}) is deprecated and will be removed; "
            f"use Denoiser(method={old!r}).",
            FutureWarning,
            stacklevel=3,
        )
        return old

    def _frame_settings(self):
        win_length = self.n_fft if self.win_length is None else self.win_length
        hop_length = max(1, win_length // 4) if self.hop_length is None else self.hop_length
        if win_length > self.n_fft:
            raise ParameterError(
                f"Denoiser has win_length={win_length} > n_fft={self.n_fft}; the window must "
                "fit in the FFT. Lower win_length or raise n_fft."
            )
        if hop_length > win_length:
            raise ParameterError(
                f"Denoiser has hop_length={hop_length} > win_length={win_length}, which would "
                "leave samples outside every frame. Use hop_length <= win_length."
            )
        return self.n_fft, win_length, hop_length

    def _noise_threshold(self, sr, n_fft, win_length, hop_length):
        carried = getattr(self.y_noise, "sr", None)
        if carried is not None and carried != sr:
            raise ParameterError(
                f"Denoiser's y_noise carries sr={carried}, but the clips are at {sr} Hz. "
                "Load the noise recording at the clips' rate."
            )
        noise = np.asarray(self.y_noise)
        if noise.dtype == object or noise.ndim != 1:
            raise ValueError(
                f"Denoiser's y_noise must be one mono clip of shape (n_samples,); got shape "
                f"{noise.shape}. Pass a 1-D array (mix channels down first)."
            )
        (noise,), _ = check_clips([noise], caller="Denoiser (y_noise)")
        return _noise_threshold(noise, n_fft=n_fft, win_length=win_length,
                                hop_length=hop_length, window=hann(win_length, noise.dtype),
                                n_std=self.n_std_thresh_stationary)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
