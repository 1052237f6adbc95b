"""The signal-processing core: framing, STFT / inverse STFT, mel filterbank, RMS, dB.

Every function takes a batch of clips ``Y`` of shape ``(..., n_samples)`` (time last,
as in librosa) and keeps the leading axes, so a matrix of clips is transformed in one
call. There is one framing convention, librosa's:

- frame ``t`` covers samples ``[t * hop_length, t * hop_length + frame_length)`` of the
  signal; with ``center=True`` the signal is first padded by ``frame_length // 2`` on
  both sides (``pad_mode``), so that frame ``t`` is centred on sample
  ``t * hop_length``;
- an STFT frame is ``n_fft`` samples long and its window (``win_length`` samples) is
  centred in it (:func:`librosa.util.pad_center`).

Two explicit switches cover the steps that need more frames than librosa gives, so
that their outputs stay what they were:

- ``pad_short=True`` zero-pads a clip shorter than ``frame_length`` to
  ``frame_length`` before centring (the feature extractors: a clip shorter than one
  frame still gives ``1 + frame_length // hop_length`` frames);
- ``pad_end=True`` zero-pads the end so that the frames reach past the last sample
  (one more frame when ``hop_length`` does not divide the length, like
  ``scipy.signal.stft(padded=True)``); the spectral gate uses it so that its inverse
  STFT covers every sample with full overlap.

With both off, :func:`stft`, :func:`istft`, :func:`melspectrogram` and :func:`rms`
equal :func:`librosa.stft`, :func:`librosa.istft`,
:func:`librosa.feature.melspectrogram` and :func:`librosa.feature.rms`.
"""

from functools import lru_cache

import librosa
import numpy as np
import scipy.fft

__all__ = [
    "AMIN",
    "check_mel_band",
    "frame",
    "frame_count",
    "frame_sums",
    "istft",
    "mel_filterbank",
    "mel_power",
    "melspectrogram",
    "pad_to",
    "power_spectrogram",
    "power_to_db",
    "rms",
    "stft",
    "stft_window",
    "zero_crossing_rate",
]

AMIN = 1e-10  # librosa.power_to_db's floor: an all-zero clip gives -100 dB, not -inf


# ------------------------------------------------------------------------ framing
def pad_to(Y, n):
    """Zero-pad the clips of ``Y`` at the end to at least ``n`` samples."""
    if Y.shape[-1] >= n:
        return Y
    return np.pad(Y, [(0, 0)] * (Y.ndim - 1) + [(0, n - Y.shape[-1])])


def _pad_last(Y, left, right, mode="constant"):
    return np.pad(Y, [(0, 0)] * (Y.ndim - 1) + [(left, right)], mode=mode)


def frame_count(n_samples, *, frame_length, hop_length, center=True, pad_short=False,
                pad_end=False):
    """Number of frames :func:`frame` gives for a clip of ``n_samples`` samples.

    Raises ``ValueError`` when the clip (padded as asked) is shorter than one frame.
    """
    n = max(n_samples, frame_length) if pad_short else n_samples
    if center:
        n += 2 * (frame_length // 2)
    if n < frame_length:
        raise ValueError(
            f"a clip of {n_samples} samples is shorter than frame_length={frame_length}; "
            "use center=True or a shorter frame_length."
        )
    if pad_end:
        return 1 + -(-(n - frame_length) // hop_length)  # ceil division
    return 1 + (n - frame_length) // hop_length


def frame(Y, *, frame_length, hop_length, center=True, pad_mode="constant", pad_short=False,
          pad_end=False):
    """Frames of the last axis as a strided view, shape ``(..., n_frames, frame_length)``.

    Parameters
    ----------
    Y : ndarray of shape (..., n_samples)
        Clips, time last.
    frame_length, hop_length : int
        Samples per frame and between frame starts.
    center : bool, default=True
        Pad by ``frame_length // 2`` on both sides first (librosa's ``center``).
    pad_mode : str, default="constant"
        :func:`numpy.pad` mode of the centring padding.
    pad_short : bool, default=False
        Zero-pad clips shorter than ``frame_length`` to ``frame_length`` first.
    pad_end : bool, default=False
        Zero-pad the end so that the last frame reaches past the last sample.

    Returns
    -------
    frames : ndarray of shape (..., n_frames, frame_length)
        A read-only view when no padding was needed; ``n_frames`` is
        :func:`frame_count`.
    """
    n_frames = frame_count(Y.shape[-1], frame_length=frame_length, hop_length=hop_length,
                           center=center, pad_short=pad_short, pad_end=pad_end)
    if pad_short:
        Y = pad_to(Y, frame_length)
    if center:
        Y = _pad_last(Y, frame_length // 2, frame_length // 2, pad_mode)
    total = frame_length + (n_frames - 1) * hop_length
    if total > Y.shape[-1]:  # pad_end only
        Y = _pad_last(Y, 0, total - Y.shape[-1])
    F = np.lib.stride_tricks.sliding_window_view(Y, frame_length, axis=-1)
    return F[..., : total - frame_length + 1 : hop_length, :]


def frame_sums(v, *, frame_length, hop_length, n_frames):
    """Sums of ``v`` over ``[t * hop_length, t * hop_length + frame_length)``, per frame.

    ``v`` has shape ``(..., n)`` with ``n >= frame_length + (n_frames - 1) *
    hop_length``. Without a copy of every frame: integer or boolean ``v`` (counts)
    through a running sum, exact; real ``v`` through blocks of
    ``gcd(frame_length, hop_length)`` samples summed once, each frame adding up its
    own blocks, so a quiet frame after a loud passage keeps its precision (a running
    sum would not).
    """
    n_used = frame_length + (n_frames - 1) * hop_length
    starts = np.arange(n_frames) * hop_length
    if not np.issubdtype(np.asarray(v).dtype, np.inexact):
        cs = np.zeros(v.shape[:-1] + (n_used + 1,))
        np.cumsum(v[..., :n_used], axis=-1, dtype=np.float64, out=cs[..., 1:])
        return cs[..., starts + frame_length] - cs[..., starts]
    g = int(np.gcd(frame_length, hop_length))
    n_blocks = n_used // g
    blocks = np.asarray(v[..., : n_blocks * g], dtype=np.float64)
    blocks = blocks.reshape(blocks.shape[:-1] + (n_blocks, g)).sum(axis=-1)
    step, per_frame = hop_length // g, frame_length // g
    out = np.zeros(blocks.shape[:-1] + (n_frames,))
    stop = step * (n_frames - 1) + 1
    for r in range(per_frame):
        out += blocks[..., r : r + stop : step]
    return out


# --------------------------------------------------------------------------- STFT
@lru_cache(maxsize=32)
def _cached_window(window, win_length, n_fft):
    w = librosa.filters.get_window(window, win_length, fftbins=True)
    w = librosa.util.pad_center(w, size=n_fft)
    w.flags.writeable = False
    return w


def stft_window(window, win_length, n_fft):
    """librosa.stft's window: ``get_window(window, win_length, fftbins=True)`` centred in
    ``n_fft`` (float64, read-only; cached unless ``window`` is an array)."""
    win_length = n_fft if win_length is None else int(win_length)
    try:
        try:
            return _cached_window(tuple(window) if isinstance(window, list) else window,
                                  win_length, n_fft)
        except TypeError:  # an ndarray window is not hashable: no cache
            w = librosa.filters.get_window(window, win_length, fftbins=True)
            return librosa.util.pad_center(w, size=n_fft)
    except librosa.util.exceptions.ParameterError as exc:
        raise ValueError(f"librosa rejected the STFT window settings: {exc}") from exc


def _spectra(Y, *, n_fft, hop_length, win_length, window, center, pad_mode, pad_short,
             pad_end):
    # frames first: one real FFT per contiguous windowed frame, (..., n_frames, n_freq)
    win = stft_window(window, win_length, n_fft)
    F = frame(Y, frame_length=n_fft, hop_length=hop_length, center=center,
              pad_mode=pad_mode, pad_short=pad_short, pad_end=pad_end)
    return scipy.fft.rfft(F * win.astype(Y.dtype, copy=False), axis=-1)


def stft(Y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=True,
         pad_mode="constant", pad_short=False, pad_end=False):
    """Complex STFT of the last axis, shape ``(..., 1 + n_fft // 2, n_frames)``.

    :func:`librosa.stft` with the same parameters (``hop_length=None`` is
    ``win_length // 4``); ``pad_short`` and ``pad_end`` add frames as described in
    the module notes. Computed in the clips' precision (float32 clips give complex64).
    """
    win_length = n_fft if win_length is None else win_length
    hop_length = max(1, win_length // 4) if hop_length is None else hop_length
    D = _spectra(Y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                 window=window, center=center, pad_mode=pad_mode, pad_short=pad_short,
                 pad_end=pad_end)
    return np.swapaxes(D, -1, -2)


def power_spectrogram(Y, *, n_fft, hop_length, win_length=None, window="hann", center=True,
                      pad_mode="constant", power=2.0, pad_short=False, pad_end=False):
    """``|stft(Y)| ** power``, frames first: shape ``(..., n_frames, 1 + n_fft // 2)``.

    The transpose of ``np.abs(librosa.stft(Y, ...)) ** power``; no complex
    spectrogram is kept in librosa's layout, which is about twice as fast.
    """
    D = _spectra(Y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                 window=window, center=center, pad_mode=pad_mode, pad_short=pad_short,
                 pad_end=pad_end)
    if power == 2.0:
        S = D.real**2
        S += D.imag**2
        return S
    if power == 1.0:
        return np.abs(D)
    return np.abs(D) ** power


def _overlap_add(frames, hop_length):
    """Sum frames ``(..., n_frames, n)`` placed ``hop_length`` apart: ``(..., n + ...)``.

    Each frame is cut into hop-sized blocks; block ``r`` of frame ``t`` lands on output
    block ``t + r``, so the sum is a handful of vectorised slice additions.
    """
    n_frames, n = frames.shape[-2:]
    n_blocks = -(-n // hop_length)
    frames = _pad_last(frames, 0, n_blocks * hop_length - n)
    frames = frames.reshape(frames.shape[:-1] + (n_blocks, hop_length))
    out = np.zeros(frames.shape[:-3] + (n_frames + n_blocks - 1, hop_length),
                   dtype=frames.dtype)
    for r in range(n_blocks):
        out[..., r : r + n_frames, :] += frames[..., :, r, :]
    out = out.reshape(out.shape[:-2] + (-1,))
    return out[..., : n + (n_frames - 1) * hop_length]


def _window_sumsquare(win, n_frames, hop_length):
    # librosa.filters.window_sumsquare: the squared window overlap-added n_frames times
    n_blocks = -(-len(win) // hop_length)
    w2 = np.pad(win**2, (0, n_blocks * hop_length - len(win))).reshape(n_blocks, hop_length)
    out = np.zeros((n_frames + n_blocks - 1, hop_length))
    for r in range(n_blocks):
        out[r : r + n_frames] += w2[r]
    return out.ravel()[: len(win) + (n_frames - 1) * hop_length]


def istft(S, *, hop_length=None, win_length=None, n_fft=None, window="hann", center=True,
          length=None):
    """Inverse of :func:`stft`: weighted overlap-add, shape ``(..., n_samples)``.

    :func:`librosa.istft` with the same parameters: each frame is inverted, windowed
    and added, and the sum divided by the summed squared window wherever that is not
    zero. ``length`` crops or zero-pads the result to that many samples (pass the
    clip's length after ``pad_end=True``).
    """
    n_fft = 2 * (S.shape[-2] - 1) if n_fft is None else n_fft
    win_length = n_fft if win_length is None else win_length
    hop_length = max(1, win_length // 4) if hop_length is None else hop_length
    real = np.finfo(S.dtype).dtype
    win = stft_window(window, win_length, n_fft)
    frames = scipy.fft.irfft(np.swapaxes(S, -1, -2), n=n_fft, axis=-1)
    y = _overlap_add(frames * win.astype(real, copy=False), hop_length)
    n_frames = S.shape[-1]
    norm = _window_sumsquare(win, n_frames, hop_length).astype(real)
    start = n_fft // 2 if center else 0
    stop = y.shape[-1] - start if length is None else start + length
    y, norm = y[..., start:stop], norm[start:stop]
    nonzero = norm > np.finfo(real).tiny
    y[..., nonzero] /= norm[nonzero]
    if length is not None and y.shape[-1] < length:
        y = _pad_last(y, 0, length - y.shape[-1])
    return y


# ---------------------------------------------------------------------------- mel
@lru_cache(maxsize=32)
def _cached_mel(sr, n_fft, n_mels, fmin, fmax):
    try:
        basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    except librosa.util.exceptions.ParameterError as exc:
        raise ValueError(f"librosa rejected the mel filterbank settings: {exc}") from exc
    basis.flags.writeable = False
    return basis


def mel_filterbank(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None):
    """librosa's (Slaney) mel filterbank, ``(n_mels, 1 + n_fft // 2)``, cached, read-only.

    Cached per process: building it costs as much as a short clip's STFT.
    """
    return _cached_mel(sr, n_fft, n_mels, float(fmin), None if fmax is None else float(fmax))


def check_mel_band(caller, fmin, fmax, sr):
    """Check a step's mel band: ``fmin < fmax <= sr / 2`` (None for ``fmax`` is ``sr / 2``).

    One rule, with one message naming ``caller``, for every step with a mel filter bank.
    """
    top = sr / 2 if fmax is None else fmax
    if not fmin < top <= sr / 2:
        raise ValueError(
            f"{caller} needs fmin < fmax <= sr / 2; got fmin={fmin}, fmax={top}, sr={sr}. "
            "Lower fmin or fmax, or leave fmax None."
        )


def mel_power(S, *, sr, n_fft, n_mels=128, fmin=0.0, fmax=None):
    """Apply :func:`mel_filterbank` to a frames-first spectrogram.

    ``(..., n_frames, n_freq) -> (..., n_mels, n_frames)``, a transposed view (time
    last, as in librosa).
    """
    basis = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return np.matmul(S, basis.T.astype(S.dtype, copy=False)).swapaxes(-1, -2)


def melspectrogram(Y, *, sr, n_fft=2048, hop_length=512, win_length=None, window="hann",
                   center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0,
                   fmax=None, pad_short=False):
    """Mel spectrogram ``(..., n_mels, n_frames)``: :func:`librosa.feature.melspectrogram`."""
    S = power_spectrogram(Y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                          window=window, center=center, pad_mode=pad_mode, power=power,
                          pad_short=pad_short)
    return mel_power(S, sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)


def power_to_db(S, *, top_db=80.0):
    """``librosa.power_to_db(S, ref=1.0)`` applied to each clip of the batch separately.

    librosa's ``top_db`` clips relative to the maximum of the whole array it gets;
    here the maximum is taken per clip (over the last two axes), so a clip's values
    never depend on the other clips of the batch.
    """
    L = 10.0 * np.log10(np.maximum(AMIN, S))
    if top_db is not None:
        L = np.maximum(L, L.max(axis=(-2, -1), keepdims=True) - top_db)
    return L


# ------------------------------------------------------------------ frame levels
def rms(Y, *, frame_length=2048, hop_length=512, center=True, pad_mode="constant"):
    """Frame RMS ``(..., n_frames)`` in float64: :func:`librosa.feature.rms` of ``y``.

    Computed with :func:`frame_sums` (no copy of every frame).
    """
    n_frames = frame_count(Y.shape[-1], frame_length=frame_length, hop_length=hop_length,
                           center=center)
    if center:
        Y = _pad_last(Y, frame_length // 2, frame_length // 2, pad_mode)
    power = frame_sums(np.square(Y, dtype=np.float64), frame_length=frame_length,
                       hop_length=hop_length, n_frames=n_frames) / frame_length
    return np.sqrt(np.maximum(power, 0.0))


def zero_crossing_rate(Y, *, frame_length=2048, hop_length=512, center=True,
                       threshold=1e-10):
    """Crossings per sample of each frame: :func:`librosa.feature.zero_crossing_rate`.

    Same framing and padding as librosa (``edge`` padding when centred; values with
    ``|y| <= threshold`` count as zero), computed with :func:`frame_sums`.
    """
    n_frames = frame_count(Y.shape[-1], frame_length=frame_length, hop_length=hop_length,
                           center=center)
    if center:
        Y = _pad_last(Y, frame_length // 2, frame_length // 2, "edge")
    sign = np.signbit(np.where(np.abs(Y) <= threshold, 0.0, Y))
    crossings = sign[..., 1:] != sign[..., :-1]
    return frame_sums(crossings, frame_length=frame_length - 1, hop_length=hop_length,
                      n_frames=n_frames) / frame_length
