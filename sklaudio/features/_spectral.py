"""Spectral helpers shared by the feature extractors: one STFT, mel power, per-clip dB.

All functions take a batch ``Y`` of shape ``(n_clips, n_samples)`` (time last, as in
librosa) and keep the batch axis, so a matrix of clips goes through librosa once.
"""

from functools import lru_cache

import librosa
import numpy as np
import scipy.fft

__all__ = ["frames", "log_power", "mel_power", "pad_to", "power_spectrogram"]

AMIN = 1e-10  # librosa.power_to_db's floor: an all-zero clip gives -100 dB, not -inf


def pad_to(Y, n):
    """Zero-pad the clips of ``Y`` at the end to at least ``n`` samples."""
    if Y.shape[-1] >= n:
        return Y
    return np.pad(Y, [(0, 0)] * (Y.ndim - 1) + [(0, n - Y.shape[-1])])


@lru_cache(maxsize=32)
def _fft_window(window, win_length, n_fft):
    # librosa.stft's window: get_window(fftbins=True), centred in n_fft
    w = librosa.filters.get_window(window, win_length, fftbins=True)
    return librosa.util.pad_center(w, size=n_fft)


def frames(Y, *, n_fft, hop_length, center, pad_mode):
    """Frames of ``Y`` as a strided view (n_clips, n_frames, n_fft), librosa's framing.

    Clips shorter than ``n_fft`` are zero-padded to ``n_fft`` first.
    """
    Y = pad_to(Y, n_fft)
    if center:
        Y = np.pad(Y, [(0, 0)] * (Y.ndim - 1) + [(n_fft // 2, n_fft // 2)], mode=pad_mode)
    return np.lib.stride_tricks.sliding_window_view(Y, n_fft, axis=-1)[..., ::hop_length, :]


def power_spectrogram(Y, *, n_fft, hop_length, win_length, window, center, pad_mode, power):
    """``|stft(Y)| ** power``, frames first: shape (n_clips, n_frames, 1 + n_fft // 2).

    Equal to librosa's ``np.abs(librosa.stft(Y, ...)) ** power`` transposed; computed
    here on contiguous frames (one real FFT per frame, no complex copy kept), which is
    about twice as fast. Clips shorter than ``n_fft`` are zero-padded to ``n_fft``.
    """
    try:
        win = _fft_window(window if not isinstance(window, list) else tuple(window),
                          n_fft if win_length is None else win_length, n_fft)
    except TypeError:  # an ndarray window is not hashable: no cache
        w = librosa.filters.get_window(window, n_fft if win_length is None else win_length,
                                       fftbins=True)
        win = librosa.util.pad_center(w, size=n_fft)
    except librosa.util.exceptions.ParameterError as exc:
        raise ValueError(f"librosa rejected the STFT window settings: {exc}") from exc
    F = frames(Y, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
    D = scipy.fft.rfft(F * win.astype(Y.dtype, copy=False), axis=-1)
    if power == 2.0:
        S = D.real**2
        S += D.imag**2
        return S
    if power == 1.0:
        return np.abs(D)
    return np.abs(D) ** power


@lru_cache(maxsize=32)
def _mel_basis(sr, n_fft, n_mels, fmin, fmax):
    # cached per process: building the filterbank costs as much as a short clip's STFT
    try:
        return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    except librosa.util.exceptions.ParameterError as exc:
        raise ValueError(f"librosa rejected the mel filterbank settings: {exc}") from exc


def mel_power(S, *, sr, n_fft, n_mels, fmin, fmax):
    """Apply librosa's (Slaney) mel filterbank: (n, t, n_freq) -> (n, n_mels, t).

    The result is a transposed view, time last as in librosa.
    """
    basis = _mel_basis(sr, n_fft, n_mels, float(fmin), None if fmax is None else float(fmax))
    return np.matmul(S, basis.T.astype(S.dtype, copy=False)).swapaxes(-1, -2)


def log_power(S, *, top_db=80.0):
    """``librosa.power_to_db(S, ref=1.0)`` applied to each clip of the batch separately.

    librosa's ``top_db`` clips relative to the maximum of the whole array it gets;
    here the maximum is taken per clip (over the last two axes), so a clip's features
    never depend on the other clips of the batch.
    """
    L = 10.0 * np.log10(np.maximum(AMIN, S))
    if top_db is not None:
        L = np.maximum(L, L.max(axis=(-2, -1), keepdims=True) - top_db)
    return L
